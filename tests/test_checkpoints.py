"""Every async call of the public API is a checkpoint (trio's rule), on asyncio and trio: a cancelled caller
is stopped before the call changes anything, and a loop of calls lets other tasks run."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio
import pytest

import audiolab
from audiolab import ConcurrencyMode, Lab, Role
from audiolab.events import VolumeChanged
from audiolab.tones import sine

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_twenty_thousand_volume_changes_stop_promptly_when_their_scope_times_out():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        music = await lab.play(sine(440), app="Music")
        done = 0
        started = time.monotonic()
        with anyio.move_on_after(0.01) as scope:
            for i in range(20_000):
                await lab.set_volume(music.session_id, (i % 100) / 100)
                done += 1
        elapsed = time.monotonic() - started
    assert scope.cancelled_caught
    assert done < 20_000
    assert elapsed < 1.0, f"the cancelled loop ran on for {elapsed:.2f} s"


async def test_a_producer_that_only_awaits_the_lab_does_not_starve_a_subscriber():
    changes = 5_000
    async with audiolab.open(clock="virtual", policy="none") as lab:
        music = await lab.play(sine(440), app="Music")
        got: list[float] = []
        async with lab.events(max_buffer=16) as events:

            async def consume() -> None:
                async for event in events:
                    if isinstance(event, VolumeChanged):
                        got.append(event.volume)
                        if len(got) == changes:
                            return

            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                for i in range(changes):  # never yields but through the Lab's own calls
                    await lab.set_volume(music.session_id, 0.25 if i % 2 else 0.75)
            assert len(got) == changes and not events.statistics().overflowed


async def cancelled(call: Callable[[], Awaitable[object]]) -> bool:
    """Run ``call()`` in a scope cancelled beforehand; True when the call raised the cancellation."""
    with anyio.CancelScope() as scope:
        scope.cancel()
        await call()
    return scope.cancelled_caught


async def test_every_control_call_of_a_cancelled_caller_raises_before_changing_anything():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        music = await lab.play(sine(440), app="Music")
        sid = music.session_id
        before = lab.session(sid)
        everyone = lab.snapshot()
        policy = lab.policy_in_force()
        device = before.key.device_id
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "set_volume": lambda: lab.set_volume(sid, 0.5),
            "set_mute": lambda: lab.set_mute(sid, True),
            "set_channel_volume": lambda: lab.set_channel_volume(sid, 0, 0.5),
            "set_display_name": lambda: lab.set_display_name(sid, "Renamed"),
            "set_icon_path": lambda: lab.set_icon_path(sid, "icon.png"),
            "set_grouping_param": lambda: lab.set_grouping_param(sid, "{00000000-0000-0000-0000-000000000007}"),
            "set_ducking_preference": lambda: lab.set_ducking_preference(sid, True),
            "set_group_volume": lambda: lab.set_group_volume(device, before.grouping_param, 0.5),
            "sleep": lambda: lab.sleep(0),
            "set_policy": lambda: lab.set_policy("windows"),
            "play": lambda: lab.play(sine(660), app="Never"),
            "pause": music.pause,
            "set_amplitude": lambda: music.set_amplitude(0.1),
            "activate": lambda: lab.session_manager("Music").activate(ConcurrencyMode.DUCK_OTHERS),
            "deactivate": lambda: lab.session_manager("Music").deactivate(),
        }
        not_checkpoints = [name for name, call in calls.items() if not await cancelled(call)]
        assert not_checkpoints == []
        assert lab.session(sid) == before
        assert lab.snapshot() == everyone
        assert lab.policy_in_force() == policy
        assert not lab.session_manager("Music").is_activated()
        assert not music.finished


async def test_a_cancelled_caller_still_stops_its_tone_and_closes_its_lab():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        music = await lab.play(sine(440), app="Music")
        assert await cancelled(music.stop)
        assert music.released
        assert await cancelled(music.wait)
        assert await cancelled(lambda: anext_of(lab))
        assert await cancelled(lab.aclose)
        assert lab.closed


async def anext_of(lab: Lab) -> object:
    return await lab.sessions().__anext__()


async def test_resume_is_a_checkpoint():
    async with audiolab.open(clock="virtual", policy="none") as lab:
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
        await music.pause()
        assert await cancelled(music.resume)
        assert lab.session(music.session_id).state is audiolab.SessionState.INACTIVE
