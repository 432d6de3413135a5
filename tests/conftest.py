"""Shared test configuration: async tests run on asyncio unless a folder asks for more."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
