"""One true event per change: a volume or mute call of this client is reported exactly once."""

from __future__ import annotations

import pytest

from audiolab.events import VolumeChanged
from audiolab.model import Origin

from .conftest import Running, both, quiet

pytestmark = [pytest.mark.anyio]


@both
async def test_exactly_one_event_per_set_volume_and_set_mute(server, running: Running) -> None:  # type: ignore[no-untyped-def]
    server.play_tone(0.2, client_name="one-event")
    (session,) = await running.wait_sessions("one-event")
    await quiet(running)
    start = len(running.recorder.events)
    calls = 200
    for i in range(calls):
        if i % 4 == 3:
            await running.backend.set_mute(session.id, i % 8 == 3)
        else:
            await running.backend.set_volume(session.id, 0.2 + 0.6 * (i % 50) / 50)
    await quiet(running)
    ours = [e for e in running.recorder.events[start:]
            if isinstance(e, VolumeChanged) and e.session_id == session.id and e.origin is Origin.THIS_CLIENT]
    others = [e for e in running.recorder.events[start:]
              if isinstance(e, VolumeChanged) and e.session_id == session.id and e.origin is not Origin.THIS_CLIENT]
    assert len(ours) == calls, f"{len(ours)} events of this client for {calls} calls"
    assert others == []
