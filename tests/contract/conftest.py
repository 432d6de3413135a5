"""Every contract test runs once per (event loop, backend harness) pair the harness supports.

A harness factory may carry ``loops`` (default: asyncio and trio) and ``marks`` (e.g. ``pytest.mark.pulse``).
Pairs a backend cannot run on are not generated at all, so nothing is skipped silently."""

from __future__ import annotations

import pytest

from .harness import HARNESSES

LOOPS = ("asyncio", "trio")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "harness_name" not in metafunc.fixturenames:
        return
    params = []
    for name in sorted(HARNESSES):
        factory = HARNESSES[name]
        for loop in getattr(factory, "loops", LOOPS):
            params.append(pytest.param(loop, name, id=f"{loop}-{name}", marks=getattr(factory, "marks", ())))
    metafunc.parametrize(("anyio_backend", "harness_name"), params)


@pytest.fixture
async def harness(harness_name: str):  # type: ignore[no-untyped-def]
    """The harness of one backend (see harness.py), opened for one test."""
    async with HARNESSES[harness_name]() as h:
        yield h
