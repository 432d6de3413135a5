"""The meter plan and frame as pure functions over mirror tables (no server)."""

from __future__ import annotations

import dataclasses

from audiolab.backends._pulse.mapping import (
    METER_PROPERTY,
    RawDevice,
    RawStream,
    build_sessions,
)
from audiolab.backends._pulse.meter_view import (
    MAX_INPUTS_PER_SINK,
    NO_MONITOR_METERS,
    NOT_METERED,
    NOT_MIXED,
    PIPEWIRE_STREAM_BUDGET,
    compose_frame,
    plan_meters,
)
from audiolab.model import Flow

SINK = RawDevice(0, "sink", Flow.RENDER, monitor_source="sink.monitor")
MIC = RawDevice(1, "mic", Flow.CAPTURE)
DEVICES = {(Flow.RENDER, 0): SINK, (Flow.CAPTURE, 1): MIC}


def _played(index: int, corked: bool = False) -> RawStream:
    return RawStream(index, Flow.RENDER, 0, 100 + index, None, corked, False, (1.0, 1.0), props={"application.name": f"a{index}"})


def test_pipewire_budget_counts_the_clients_streams_not_our_meters() -> None:
    played = [_played(i) for i in range(100)]
    meters = [RawStream(1000 + i, Flow.CAPTURE, 5, 7, None, False, False, (1.0,), props={METER_PROPERTY: "1"})
              for i in range(30)]
    plan = plan_meters([*played, *meters], DEVICES, None, pipewire=True, first=[99])
    metered = [t.sink_input for t in plan.targets if t.sink_input is not None]
    assert len(metered) == PIPEWIRE_STREAM_BUDGET - 100 - 1  # the sink's own meter counts too
    assert metered[0] == 99  # audiolab's own tones first
    assert set(plan.left_out) == {s.index for s in played} - set(metered)
    assert plan_meters(played, DEVICES, None, pipewire=False).left_out == {}


def test_frame_marks_left_out_and_unmixed_sessions_and_meters_capture_by_its_gain() -> None:
    played = [_played(i) for i in range(MAX_INPUTS_PER_SINK + 2)]
    recorder = RawStream(500, Flow.CAPTURE, 1, 600, None, False, False, (0.5, 0.5), props={"application.name": "rec"})
    streams = {s.key: s for s in [*played, recorder]}
    sessions = build_sessions(streams.values(), {}, DEVICES)
    per_input = {s.index: (0.5, 0.5) for s in played[:MAX_INPUTS_PER_SINK]}
    frame = compose_frame(1.0, 1, sessions.values(), per_input, {"mic": (0.8, 0.4)}, streams, DEVICES,
                          {played[-1].index: NOT_METERED})
    by_index = {int(s.streams[0].id.rsplit("/", 1)[1]): s.id for s in sessions.values()}
    assert frame.peaks[by_index[0]] == 0.5 and by_index[0] not in frame.unmeasured
    assert frame.unmeasured[by_index[played[-2].index]] == NOT_MIXED  # silent on a sink with 34 playing
    assert frame.unmeasured[by_index[played[-1].index]] == NOT_METERED
    assert frame.channel_peaks[by_index[500]] == (0.8 * 0.125, 0.4 * 0.125)  # volume 0.5: gain 0.5 ** 3


def test_under_wireplumber_04_endpoints_no_playback_is_metered_and_the_sessions_say_why() -> None:
    """The policy links every record stream to its Capture endpoint (a sink's monitor cannot be recorded there),
    so no render meter is opened: a playing session is reported unmeasured with why, a corked one reads 0."""
    music = RawDevice(2, "control.endpoint.multimedia", Flow.RENDER, monitor_source="control.endpoint.multimedia.monitor")
    phone = RawDevice(3, "control.endpoint.speech_high", Flow.RENDER, monitor_source="control.endpoint.speech_high.monitor")
    devices = {**DEVICES, (Flow.RENDER, 2): music, (Flow.RENDER, 3): phone}
    shared = [dataclasses.replace(_played(i), device=2) for i in (1, 2)]
    alone = dataclasses.replace(_played(3), device=3)
    corked = dataclasses.replace(_played(4, corked=True), device=3)
    streams = {s.key: s for s in [*shared, alone, corked]}
    plan = plan_meters(streams.values(), devices, None, pipewire=True)
    assert [t for t in plan.targets if t.source.endswith(".monitor")] == []  # no sink's monitor, no stream's
    assert plan.left_out == dict.fromkeys((1, 2, 3, 4), NO_MONITOR_METERS)
    assert plan_meters(streams.values(), devices, None, pipewire=False).left_out == {}  # PulseAudio: no such policy
    sessions = build_sessions(streams.values(), {}, devices)
    by_index = {int(s.streams[0].id.rsplit("/", 1)[1]): s.id for s in sessions.values()}
    frame = compose_frame(1.0, 1, sessions.values(), {}, {}, streams, devices, plan.left_out)
    assert frame.unmeasured[by_index[1]] == frame.unmeasured[by_index[2]] == frame.unmeasured[by_index[3]] \
        == NO_MONITOR_METERS
    assert frame.peaks[by_index[4]] == 0.0 and by_index[4] not in frame.unmeasured
