"""The mirror's two short waits (_pulse/settling.py), as pure logic (no server)."""

from __future__ import annotations

from audiolab.backends._pulse.mapping import RawDevice, RawStream, build_sessions
from audiolab.backends._pulse.settling import (
    LEAVE_GRACE_SECONDS,
    VOLUME_GRACE_SECONDS,
    Settling,
)
from audiolab.model import Flow

DEVICES = {(Flow.RENDER, 0): RawDevice(0, "sink", Flow.RENDER, monitor_source="sink.monitor")}


def _stream(index: int, volume: float) -> RawStream:
    return RawStream(index, Flow.RENDER, 0, 10 + index, None, False, False, (volume, volume))


def test_a_new_pipewire_stream_at_volume_zero_waits_for_its_volume() -> None:
    settling = Settling(pipewire=True)
    early = _stream(1, 0.0)
    settling.stream_read(None, early, now=0.0)
    assert settling.visible([early], now=0.001) == []  # no session with a volume it never had
    known = _stream(1, 1.0)
    settling.stream_read(early, known, now=0.002)
    assert settling.visible([known], now=0.002) == [known]


def test_a_stream_really_at_zero_is_reported_after_the_grace() -> None:
    settling = Settling(pipewire=True)
    silent = _stream(1, 0.0)
    settling.stream_read(None, silent, now=0.0)
    assert settling.next_deadline() == VOLUME_GRACE_SECONDS
    assert settling.visible([silent], now=VOLUME_GRACE_SECONDS) == [silent]
    assert Settling(pipewire=False).visible([silent], now=0.0) == [silent]  # PulseAudio knows its volumes


def test_a_session_that_leaves_is_held_for_the_grace_and_one_that_comes_back_goes_on() -> None:
    settling = Settling()
    old = build_sessions([_stream(1, 1.0), _stream(2, 1.0)], {}, DEVICES)
    (first, second) = sorted(old)
    new = {sid: s for sid, s in old.items() if sid != first}
    before = settling.before_diff(old, new, now=0.0)
    assert first not in before and settling.expired(now=LEAVE_GRACE_SECONDS / 2) == {}
    back = settling.before_diff(new, old, now=LEAVE_GRACE_SECONDS / 2)  # it came back: diffed as if it stayed
    assert back[first] == old[first] and settling.leaving == {}
    settling.before_diff(old, new, now=1.0)
    assert list(settling.expired(now=1.0 + LEAVE_GRACE_SECONDS)) == [first]
    assert second in new
