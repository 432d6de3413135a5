"""Bad input gets a clear error and changes nothing."""

from __future__ import annotations

import math

import anyio
import pytest

import audiolab
from audiolab import ClosedResourceError, Role, SessionNotFound

pytestmark = pytest.mark.anyio

EXPIRED = "<expired>"
PLAYING = "<playing>"

CASES = [
    ("set_volume", (PLAYING, math.nan), ValueError, "0..1"),
    ("set_volume", (PLAYING, -0.01), ValueError, "0..1"),
    ("set_volume", (PLAYING, 1.5), ValueError, "0..1"),
    ("set_volume", (PLAYING, "loud"), TypeError, "number"),
    ("set_volume", (PLAYING, None), TypeError, "number"),
    ("set_volume", ("nope", 0.5), SessionNotFound, "no session"),
    ("set_volume", (EXPIRED, 0.5), SessionNotFound, "expired"),
    ("set_volume", (42, 0.5), TypeError, "session id"),
    ("set_mute", (PLAYING, "yes"), TypeError, "bool"),
    ("set_mute", (PLAYING, 1), TypeError, "bool"),
    ("set_mute", (EXPIRED, True), SessionNotFound, "no session"),
    ("set_channel_volume", (PLAYING, 2, 0.5), ValueError, "channel must be in 0..1"),
    ("set_channel_volume", (PLAYING, -1, 0.5), ValueError, "channel"),
    ("set_channel_volume", (PLAYING, 0, math.inf), ValueError, "0..1"),
    ("set_channel_volume", (PLAYING, "left", 0.5), TypeError, "int"),
    ("set_display_name", (PLAYING, 7), TypeError, "str"),
    ("set_icon_path", (PLAYING, None), TypeError, "str"),
    ("set_grouping_param", (PLAYING, "not-a-guid"), ValueError, "is not a GUID"),
    ("set_grouping_param", (PLAYING, 12), TypeError, "GUID"),
]


async def _world(lab):
    app = lab.sim.client("Player")
    playing = app.open_stream(role=Role.MUSIC, start=True)
    gone = lab.sim.client("Gone").open_stream()
    gone_id = gone.session_id
    gone.release()
    await lab.sleep(0.1)
    return {PLAYING: playing.session_id, EXPIRED: gone_id}


@pytest.mark.parametrize(("method", "args", "error", "message"), CASES)
async def test_bad_control_input_is_refused_and_changes_nothing(method, args, error, message):
    async with audiolab.open(clock="virtual") as lab:
        ids = await _world(lab)
        args = tuple(ids.get(a, a) if isinstance(a, str) else a for a in args)
        before = lab.snapshot()
        async with lab.events() as events:
            with pytest.raises(error, match=message):
                await getattr(lab, method)(*args)
            await lab.sleep(0.1)
            with pytest.raises(anyio.WouldBlock):
                events.receive_nowait()
        assert lab.snapshot() == before


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"backend": "nonesuch"}, ValueError, "unknown backend"),
        ({"backend": 3}, TypeError, "backend name"),
        ({"expire_after": -1}, ValueError, "expire_after"),
        ({"expire_after": math.nan}, ValueError, "expire_after"),
        ({"clock": "sundial"}, ValueError, "clock"),
        ({"colour": "blue"}, TypeError, "unknown options: colour"),
        ({"devices": ()}, TypeError, "devices"),
    ],
)
async def test_bad_open_options_fail_before_anything_starts(kwargs, error, message):
    with pytest.raises(error, match=message):
        async with audiolab.open(**kwargs):
            pass


async def test_bad_subscription_arguments():
    async with audiolab.open(clock="virtual") as lab:
        with pytest.raises(ValueError, match="max_buffer"):
            lab.events(max_buffer=0)
        for rate in (0, -5, math.nan, 1e6, "fast"):
            with pytest.raises(ValueError, match="rate"):
                async with lab.meters(rate=rate):
                    pass
        assert lab.statistics().meter_subscribers == ()


async def test_bad_stream_arguments_open_nothing():
    async with audiolab.open(clock="virtual") as lab:
        app = lab.sim.client("Player")
        before = lab.snapshot()
        with pytest.raises(ValueError, match="no device"):
            app.open_stream("bluetooth")
        with pytest.raises(ValueError):
            app.open_stream(session_guid="xyz")
        with pytest.raises(TypeError, match="Role"):
            app.open_stream(role="music")
        with pytest.raises(ValueError, match="loopback"):
            app.open_stream("microphone", loopback=True)
        with pytest.raises(ValueError, match="non-empty"):
            lab.sim.client("")
        assert lab.snapshot() == before


async def test_operations_on_a_closed_lab_raise_closed_resource_error():
    lab = audiolab.open(clock="virtual")
    with pytest.raises(ClosedResourceError, match="not open yet"):
        lab.snapshot()
    async with lab:
        sid = lab.snapshot()[0].id
    for call in (lambda: lab.snapshot(), lambda: lab.session(sid), lambda: lab.events(), lambda: lab.sim):
        with pytest.raises(ClosedResourceError):
            call()
    for coro in (lab.set_volume(sid, 0.5), lab.set_mute(sid, True), lab.sleep(1)):
        with pytest.raises(ClosedResourceError):
            await coro
