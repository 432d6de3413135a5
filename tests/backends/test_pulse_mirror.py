"""The mirror's one reducer over typed reads, and the sessions it builds (no server)."""

from __future__ import annotations

from types import SimpleNamespace

from audiolab.backends._pulse.mapping import PA_INVALID_INDEX, UNREAD_NAME
from audiolab.backends._pulse.mirror import (
    ClientRead,
    DeviceRead,
    Loaded,
    Mirror,
    StreamRead,
    StreamUnread,
)
from audiolab.model import Flow, Origin


def _client(index: int, name: str) -> SimpleNamespace:
    return SimpleNamespace(index=index, name=name, proplist={"application.name": name})


def _sink(index: int) -> SimpleNamespace:
    return SimpleNamespace(index=index, name=f"sink{index}", monitor_source_name=f"sink{index}.monitor")


def _input(index: int, client: int, volume: float = 1.0) -> SimpleNamespace:
    return SimpleNamespace(index=index, sink=0, client=client, owner_module=PA_INVALID_INDEX, corked=False, mute=False,
                           volume=SimpleNamespace(values=[volume, volume]), name=f"s{index}", proplist={})


def test_reads_fold_into_sessions_and_events() -> None:
    mirror = Mirror()
    mirror.apply(Loaded([_client(1, "music")], [_sink(0)], [], [_input(10, 1)], []), mono=0.0)
    mirror.settle()
    (session,) = mirror.sessions.values()
    assert session.app == "music" and session.volume == 1.0
    mirror.apply(StreamRead(Flow.RENDER, 10, _input(10, 1, volume=0.5)), mono=1.0)
    events = mirror.rebuild(now=1.0, mono=1.0, origin_of=lambda sid: Origin.OTHER_CLIENT)
    assert [e.kind for e in events] == ["VolumeChanged", "ChannelVolumeChanged", "StreamsChanged"]
    assert events[0].volume == 0.5 and events[2].streams[0].volume == 0.5
    mirror.apply(ClientRead(2, _client(2, "game")), mono=2.0)
    mirror.apply(DeviceRead(Flow.RENDER, 0, _sink(0)), mono=2.0)
    mirror.apply(StreamRead(Flow.RENDER, 11, _input(11, 2)), mono=2.0)
    assert [e.kind for e in mirror.rebuild(now=2.0, mono=2.0, origin_of=lambda sid: Origin.UNKNOWN)] == ["SessionCreated"]


def test_an_unread_stream_is_reported_created_then_removed() -> None:
    mirror = Mirror()
    mirror.apply(StreamUnread(Flow.RENDER, 42), mono=0.0)
    events = mirror.rebuild(now=0.0, mono=0.0, origin_of=lambda sid: Origin.UNKNOWN)
    assert [e.kind for e in events] == ["SessionCreated", "StateChanged", "SessionRemoved"]
    assert events[0].session.app == UNREAD_NAME
    assert mirror.sessions == {}


def test_clear_ends_every_session_reported() -> None:
    mirror = Mirror()
    mirror.apply(Loaded([_client(1, "music")], [_sink(0)], [], [_input(10, 1)], []), mono=0.0)
    mirror.settle()
    assert [e.kind for e in mirror.clear(now=1.0)] == ["StateChanged", "SessionRemoved"]
    assert mirror.streams == {} and mirror.sessions == {}
