from __future__ import annotations

import os
from pathlib import Path

import pytest

from audiolab.focus import FocusRequest
from audiolab.model import Role

REPO = Path(__file__).resolve().parents[2]
XML = REPO.parent / "shared" / "reference" / "harmonyos" / "audio_interrupt_policy_config.xml"


def req(sid: str, role: Role = Role.MUSIC, stream: str = "s", **kw) -> FocusRequest:
    return FocusRequest(sid, stream, role, **kw)


def kinds(actions) -> list[tuple[str, str]]:
    return [(a.kind, a.session_id) for a in actions]


@pytest.fixture
def xml_path() -> Path:
    if not XML.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the reference XML beside the repo: {XML} is missing")
        pytest.skip("../shared/reference is not beside the repo (outside CI only)")
    return XML
