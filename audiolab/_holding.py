"""A Lab held open across notebook cells.

An ``async with audiolab.open()`` block cannot span cells: each cell that awaits runs as a task of its own on
the kernel's asyncio loop. :func:`start_lab` opens the Lab in a background task that holds it (its task group
is entered and left by that task, as in any ``async with`` block) until :func:`stop_lab`, or
``await lab.aclose()`` from any cell, asks the holder to leave the block.
"""

from __future__ import annotations

import sniffio

from .lab import Lab
from .lab import open as open_lab


async def start_lab(backend: str = "sim", **options: object) -> Lab:
    """Open a Lab that stays open across notebook cells: ``lab = await start_lab(policy="harmonyos")``.

    The arguments are those of :func:`audiolab.open`. Close it with ``await stop_lab(lab)`` or
    ``await lab.aclose()`` from any cell. Needs asyncio (a Jupyter kernel's loop); under trio, keep the Lab
    in an ``async with audiolab.open()`` block."""
    if sniffio.current_async_library() != "asyncio":
        raise RuntimeError("start_lab() holds the Lab in a background task of an asyncio loop (a notebook "
                           "kernel's); under trio, use `async with audiolab.open() as lab:`")
    lab = open_lab(backend, **options)  # bad arguments fail here, in the caller's task
    import asyncio  # here: `import audiolab` under trio does not load asyncio

    loop = asyncio.get_running_loop()
    opened: asyncio.Future[None] = loop.create_future()
    stop = asyncio.Event()

    async def hold() -> None:
        try:
            async with lab:
                opened.set_result(None)
                await stop.wait()
        except BaseException as exc:
            if opened.done():
                raise
            opened.set_exception(exc)  # the opener sees why; the task itself ends quietly

    task = loop.create_task(hold(), name="audiolab-lab")

    async def release() -> None:
        lab._holder = None
        stop.set()
        await task

    try:
        await opened
    except BaseException:
        task.cancel()
        raise
    lab._holder = release
    return lab


async def stop_lab(lab: Lab) -> None:
    """Close a Lab opened with :func:`start_lab` (stops its tones, meters and event subscriptions); the same as
    ``await lab.aclose()`` from any cell. ValueError for a Lab that :func:`start_lab` did not open or that is
    already stopped."""
    release = lab._holder if isinstance(lab, Lab) else None
    if release is None:
        raise ValueError("this Lab was not opened with start_lab() (or is already stopped)")
    await release()
