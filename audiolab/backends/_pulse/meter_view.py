"""From the mirror to the meter service and back: what to meter, and the frame a read returns.

Pure functions over the mirror's tables (no I/O), so the backend, the ducking measurement and tests share them.

What a frame says beside the peaks (``MeterFrame.unmeasured``, session id -> reason):

- PulseAudio mixes at most 32 inputs into a sink per render pass (``MAX_MIX_CHANNELS`` in its sink.c; a sink
  takes up to 256 inputs): in a pass the others are not played, and their per-stream monitors get silence. A
  session whose meter reads silent while its sink has more than 32 playing inputs is reported as NOT_MIXED, not
  as silent. Measured on the test PulseAudio 16: of 55 large-buffer tones (pacat's default 2 s buffer, so every
  input has data in every pass) exactly 32 read right, every time; of 55 tones with 50 ms buffers 54 did (an
  input with no data in a pass leaves its place to another). So it is an inference: a stream that is silent for
  another reason on such a sink is marked too.
- On PipeWire with pulse-protocol meters (native meters are no streams of pipewire-pulse's: no budget for
  them) each meter stream is a stream inside pipewire-pulse, and pipewire-pulse 0.3.65 hands every one of
  its streams over from the graph thread to its main loop through one queue of 32 KiB (about 190 hand-overs) per
  graph cycle: past that, hand-overs are dropped ("loop_invoke() queue full") and playback and meters break
  alike. So audiolab meters at most PIPEWIRE_STREAM_BUDGET streams in pipewire-pulse in all, counting the
  clients' own streams, and reports the sessions it leaves out as NOT_METERED.

- With WirePlumber 0.4's endpoints policy on (``control.endpoint.<role>`` sinks) no playback can be metered over
  the pulse protocol. The policy links *every* stream, record streams too, to an endpoint of its media class
  (``policy-endpoint-client.lua`` has no exception for a stream that names its source): a record stream on
  ``control.endpoint.multimedia.monitor`` or on the hardware sink's monitor is linked to
  ``control.endpoint.capture``'s monitor ports instead (``pw-link -l`` while ``parec`` records; ``parec`` and
  ``pw-record`` read silence there, a microphone on a real machine). A per-stream meter also crashed
  pipewire-pulse 0.3.65 now and then (SIGSEGV in libspa-audioconvert as the policy links a new stream and unlinks
  the one it corks: 1-2 runs in 20 of a phone call over music). So audiolab opens no render meter there and
  reports every playing session as NO_MONITOR_METERS; a corked one plays nothing and reads 0. What the policy
  does shows elsewhere: a cork as the stream taken off every sink, a duck as the ducked role endpoint's monitor
  volume (:mod:`.endpoints`), which the duck detector measures. Native meters fare no better: a PipeWire capture
  stream is a Stream node too (``pw-record --target control.endpoint.multimedia -P stream.capture.sink=true``
  reads silence the same way), and native per-stream meters were never linked there (read 0 in 3 runs of 3).

Capture sessions are metered from the source they record (one meter per source, what any app recording it
gets), times the session's own gain (its volume cubed, 0 when muted): the server has no per-source-output monitor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..._by_fields import by_fields
from ...model import Flow, MeterFrame, Session
from .mapping import RawDevice, RawStream, is_own
from .meters import MeterTarget

MAX_INPUTS_PER_SINK = 32
"""Inputs PulseAudio mixes into a sink per render pass (its sink.c's MAX_MIX_CHANNELS)."""
SILENT = 1e-4
"""A meter reading at or below this is silence (for the NOT_MIXED inference)."""
PIPEWIRE_STREAM_BUDGET = 128
"""Streams in pipewire-pulse (the clients' and the meters') beyond which audiolab meters no more (see above)."""
NOT_MIXED = "not mixed by the server (inferred)"
NOT_METERED = "not metered: pipewire-pulse is at the stream count it can serve"
NO_MONITOR_METERS = ("not metered: WirePlumber 0.4's endpoints policy links every record stream to its Capture "
                     "endpoint, so no sink monitor can be recorded (a duck shows as the endpoint's monitor volume)")
ENDPOINT_SINK_PREFIX = "control.endpoint."


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class MeterPlan:
    """The meter targets to open, and the sink-inputs left without a meter of their own, each with why."""

    targets: tuple[MeterTarget, ...]
    left_out: Mapping[int, str]


def plan_meters(
    streams: Iterable[RawStream],
    devices: Mapping[tuple[Flow, int], RawDevice],
    own_client: int | None,
    *,
    pipewire: bool,
    first: Iterable[int] = (),
    native: bool = False,
) -> MeterPlan:
    """One meter per sink (its mix), per source recorded by someone (capture), and per played stream; on
    PipeWire within the budget (unless ``native``: native meters are no streams of pipewire-pulse's), the
    sink-inputs in ``first`` (audiolab's own tones) and then the oldest, and no render meter under WirePlumber
    0.4's endpoints (see the module docstring)."""
    streams = list(streams)
    endpoints = pipewire and any(d.name.startswith(ENDPOINT_SINK_PREFIX) for d in devices.values())
    targets: list[MeterTarget] = []
    for (flow, _), device in sorted(devices.items(), key=lambda item: (item[0][0].value, item[0][1])):
        if flow is Flow.RENDER and device.monitor_source and not endpoints:
            targets.append(MeterTarget(device.monitor_source, 2, None))
    recorded = {s.device for s in streams if s.flow is Flow.CAPTURE and not is_own(s, own_client)}
    for index in sorted(recorded):
        source = devices.get((Flow.CAPTURE, index))
        if source is not None:
            channels = max((len(s.volumes) for s in streams if s.flow is Flow.CAPTURE and s.device == index), default=2)
            targets.append(MeterTarget(source.name, channels or 2, None))
    played = []
    for stream in streams:
        if stream.flow is not Flow.RENDER or is_own(stream, own_client):
            continue
        sink = devices.get((Flow.RENDER, stream.device))
        if sink is not None and sink.monitor_source:
            played.append((stream, MeterTarget(sink.monitor_source, len(stream.volumes) or 2, stream.index)))
    left_out: dict[int, str] = {}
    if endpoints:
        left_out = {stream.index: NO_MONITOR_METERS for stream, _ in played}
        played = []
    elif pipewire and not native:
        wanted = set(first)
        played.sort(key=lambda item: (item[0].index not in wanted, item[0].index))
        theirs = sum(1 for stream in streams if not is_own(stream, own_client))  # ours are the targets
        room = max(0, PIPEWIRE_STREAM_BUDGET - theirs - len(targets))
        left_out = {stream.index: NOT_METERED for stream, _ in played[room:]}
        played = played[:room]
    targets.extend(target for _, target in played)
    return MeterPlan(tuple(targets), left_out)


def compose_frame(
    now: float,
    sequence: int,
    sessions: Iterable[Session],
    per_input: Mapping[int, tuple[float, ...]],
    per_source: Mapping[str, tuple[float, ...]],
    streams: Mapping[tuple[Flow, int], RawStream],
    devices: Mapping[tuple[Flow, int], RawDevice],
    left_out: Mapping[int, str],
) -> MeterFrame:
    """The frame of one read: every session's peak (per channel), each sink's mix, and what was not measured."""
    playing_per_sink: dict[int, int] = {}
    for stream in streams.values():
        if stream.flow is Flow.RENDER and not stream.corked:
            playing_per_sink[stream.device] = playing_per_sink.get(stream.device, 0) + 1
    peaks: dict[str, float] = {}
    channel_peaks: dict[str, tuple[float, ...]] = {}
    unmeasured: dict[str, str] = {}
    for session in sessions:
        channels = [0.0] * len(session.channel_volumes)
        members = [streams.get((session.flow, _index_of(m.id))) for m in session.streams]
        if session.flow is Flow.RENDER:
            for member in members:
                if member is None or member.corked:  # a corked stream plays nothing (its meter only holds)
                    continue
                for i, v in enumerate(per_input.get(member.index, ())[: len(channels)]):
                    channels[i] = max(channels[i], v)
            indices = [m.index for m in members if m is not None]
            if indices and all(i in left_out for i in indices):
                reason = left_out[indices[0]]
                if not (reason == NO_MONITOR_METERS and all(m is None or m.corked for m in members)):
                    unmeasured[session.id] = reason  # (corked: it plays nothing, a measurement without a meter)
            elif max(channels, default=0.0) <= SILENT and any(
                playing_per_sink.get(m.device, 0) > MAX_INPUTS_PER_SINK for m in members if m is not None and not m.corked
            ):
                unmeasured[session.id] = NOT_MIXED
        else:
            for member in members:
                device = devices.get((Flow.CAPTURE, member.device)) if member is not None else None
                if member is None or device is None:
                    continue
                source = per_source.get(device.name, ())
                for i, v in enumerate(source[: len(channels)]):
                    gain = 0.0 if member.muted else member.volumes[min(i, len(member.volumes) - 1)] ** 3
                    channels[i] = max(channels[i], min(1.0, v * gain))
        channel_peaks[session.id] = tuple(channels)
        peaks[session.id] = max(channels, default=0.0)
    device_peaks = {}
    for (flow, _), device in devices.items():
        if flow is Flow.RENDER and device.monitor_source is not None and device.monitor_source in per_source:
            device_peaks[device.name] = max(per_source[device.monitor_source], default=0.0)
    return MeterFrame(now, peaks, channel_peaks, device_peaks, sequence, unmeasured)


def _index_of(stream_id: str) -> int:
    return int(stream_id.rsplit("/", 1)[1])
