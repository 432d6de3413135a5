"""WirePlumber 0.4's role endpoints: the gain the server applies to everything a role plays.

With Debian's endpoints policy on (``control.endpoint.<role>`` sinks), WirePlumber ducks a role by turning
down the *monitor* volume of that role's endpoint sink (its ``set-volume monitorVolume`` call, the policy's
``duck.level`` 0.3). Over the pulse protocol that shows as the volume of the ``control.endpoint.<role>.monitor``
source, never as the volume of a stream or of the endpoint sink. Seen with ``pactl list sources`` while a
``media.role=Navigation`` stream plays over music on PipeWire 0.3.65 + WirePlumber 0.4.13:
``control.endpoint.multimedia.monitor`` goes from 100 % to 67 % (-10.46 dB, 0.67 ** 3 = 0.30) and back to
100 % when the prompt ends; the stream, the sink and every other source stay at 100 %.

Everything a stream on an endpoint plays leaves through that endpoint's monitor, so the endpoint's gain is the
stream's: the sink's volume and the monitor's, both in PulseAudio's cubic scale, 0 when either is muted. It is
the only sign of a duck there: no meter can record a sink under that policy (see :mod:`.meter_view`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..._server_gain import ServerGain
from ...model import Flow, Session
from .mapping import RawDevice, RawStream
from .policy import ENDPOINT_PREFIX
from .volume import gain_from_level


def endpoint_gain(
    session: Session, streams: Mapping[tuple[Flow, int], RawStream], devices: Mapping[tuple[Flow, int], RawDevice]
) -> ServerGain | None:
    """The gain of the role endpoint a render session plays on, or None (not on an endpoint, or on several,
    or the server did not report the volumes)."""
    if session.flow is not Flow.RENDER:
        return None
    members = [streams.get((Flow.RENDER, int(m.id.rsplit("/", 1)[1]))) for m in session.streams]
    sinks = {m.device for m in members if m is not None}
    if len(sinks) != 1:
        return None
    sink = devices.get((Flow.RENDER, sinks.pop()))
    if sink is None or not sink.name.startswith(ENDPOINT_PREFIX) or sink.volume is None:
        return None
    monitor = next((d for (flow, _), d in devices.items() if flow is Flow.CAPTURE and d.name == sink.monitor_source),
                   None)
    if monitor is None or monitor.volume is None:
        return None
    gain = 0.0 if sink.muted or monitor.muted else gain_from_level(sink.volume) * gain_from_level(monitor.volume)
    shown = f"{monitor.volume:.0%}{' muted' if monitor.muted else ''}"
    if sink.volume < 0.995 or sink.muted:
        shown += f" (the sink {sink.volume:.0%}{' muted' if sink.muted else ''})"
    return ServerGain(gain, monitor.name, shown, f"the volume of {monitor.name}, the monitor of the WirePlumber "
                      f"role endpoint {sink.name} that the stream plays on")
