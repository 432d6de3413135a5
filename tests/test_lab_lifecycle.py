"""The Lab's lifetime is structured: its task group belongs to the block that opened it (asyncio and trio)."""

from __future__ import annotations

import sys

import anyio
import pytest

import audiolab
from audiolab import Role
from audiolab.tones import sine

from .test_backend_seam import OneKnob

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_close_from_another_task_is_refused_and_changes_nothing():
    async with audiolab.open(clock="virtual") as lab:
        music = await lab.play(sine(440), role=Role.MUSIC, app="Music")
        refused: list[str] = []

        async def close_from_elsewhere() -> None:
            with pytest.raises(RuntimeError, match="closed by the task that opened it") as info:
                await lab.aclose()
            refused.append(str(info.value))

        async with anyio.create_task_group() as tg:
            tg.start_soon(close_from_elsewhere)
        assert refused and not lab.closed
        await lab.set_volume(music.session_id, 0.5)  # still fully usable
        assert lab.session(music.session_id).volume == 0.5
    assert lab.closed and music.released


async def test_an_error_in_the_block_leaves_as_itself_and_closes_the_lab():
    with pytest.raises(KeyError, match="mine"):
        async with audiolab.open(clock="virtual") as lab:
            tone = await lab.play(sine(440))
            raise KeyError("mine")
    assert lab.closed and tone.released


async def test_a_close_inside_the_block_from_its_own_task_ends_the_labs_tasks_at_once():
    async with audiolab.open(clock="virtual") as lab, lab.meters(rate=30) as frames:
        await lab.sleep(0.1)
        with anyio.move_on_after(5):  # a nested cancel scope: the close must not need to leave it
            await lab.aclose()
        assert lab.closed
        assert [frame async for frame in frames] == []  # the meter stream ended with the Lab
        with pytest.raises(audiolab.ClosedResourceError):
            lab.snapshot()


async def test_cancelling_the_block_from_outside_closes_the_lab():
    with anyio.move_on_after(0.2) as scope:
        async with audiolab.open() as lab:  # a real clock: the meter ticker and the pump keep running
            async with lab.meters(rate=30):
                await anyio.sleep_forever()
    assert scope.cancelled_caught and lab.closed


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_start_lab_refuses_trio_with_a_clear_error():
    with pytest.raises(RuntimeError, match="under trio, use `async with"):
        await audiolab.start_lab(clock="virtual")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_lab_held_by_start_lab_is_closed_by_aclose_from_any_task():
    lab = await audiolab.start_lab(clock="virtual")
    async with anyio.create_task_group() as tg:  # another cell
        tg.start_soon(lab.aclose)
    assert lab.closed
    await lab.aclose()  # idempotent
    with pytest.raises(ValueError, match="already stopped"):
        await audiolab.stop_lab(lab)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_start_lab_with_bad_arguments_raises_in_the_callers_task_and_holds_nothing():
    import asyncio

    before = asyncio.all_tasks()
    with pytest.raises(ValueError, match="unknown backend"):
        await audiolab.start_lab("nope")
    with pytest.raises(TypeError, match="unknown options"):
        await audiolab.start_lab(clock="virtual", volume_knob=11)
    assert asyncio.all_tasks() == before


class FailsToClose(OneKnob):
    async def aclose(self) -> None:
        raise OSError("the device went away while closing")


class PumpDies(OneKnob):
    async def run(self) -> None:
        await anyio.sleep(0.01)
        raise RuntimeError("the pump died")


async def test_an_error_closing_the_backend_leaves_as_itself():
    with pytest.raises(OSError, match="went away while closing"):
        async with audiolab.open(FailsToClose()) as lab:
            pass
    assert lab.closed


async def test_an_error_in_one_of_the_labs_tasks_cancels_the_block_and_is_raised_from_it():
    reached_the_end = False
    with pytest.raises(BaseExceptionGroup) as info:
        async with audiolab.open(PumpDies()) as lab:
            await anyio.sleep(5)
            reached_the_end = True
    assert info.group_contains(RuntimeError, match="the pump died", depth=None)
    assert lab.closed and not reached_the_end
