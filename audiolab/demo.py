"""The demo story told by ``audiolab demo`` (and ``make demo``), on the simulated service and virtual time."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TextIO

import anyio

from . import open as open_lab
from ._format import describe_event, session_table
from .events import Event
from .model import Role


async def session_story(out: TextIO, *, expire_after: float = 10.0) -> list[Event]:
    """Two apps start, the user turns one down, the other goes quiet and expires, the service restarts and
    the persisted volume comes back. Prints the event log and the final table; returns the events."""
    seen: list[Event] = []
    with tempfile.TemporaryDirectory(prefix="audiolab-demo-") as tmp:
        store = Path(tmp) / "session-volumes.json"
        async with open_lab("sim", clock="virtual", expire_after=expire_after, store_path=store) as lab:
            async with lab.events() as events:

                async def show(title: str) -> None:
                    await lab.sleep(0)
                    print(f"\n== t={lab.clock.now():5.1f}s  {title}", file=out)
                    while True:
                        try:
                            event = events.receive_nowait()
                        except anyio.WouldBlock:
                            break
                        seen.append(event)
                        print("  " + describe_event(event), file=out)

                await show("the simulated service starts: only the system sounds session exists")
                music_app = lab.sim.client("Music Player")
                music = music_app.open_stream(role=Role.MUSIC, display_name="Music Player", start=True)
                game_app = lab.sim.client("Game")
                game = game_app.open_stream(role=Role.GAME, display_name="Space Game", start=True)
                await show("two apps open a stream each and start playing: two sessions, both Active")

                await lab.sleep(2)
                await lab.set_volume(music.session_id, 0.4)
                await show("the user turns the music down to 0.40 (origin: this client)")

                await lab.sleep(1)
                game.stop()
                await show("the game stops its stream: its session goes Inactive")

                await lab.sleep(expire_after)
                await show(f"{expire_after:g} s later the inactive game session expires and leaves the list")

                lab.sim.restart()
                await show("the audio service restarts: sessions are disconnected and end; volumes are persisted")
                print(f"  persisted: {store.read_text(encoding='utf-8').count('volume')} render session(s) in "
                      f"{store.name} (written atomically)", file=out)

                await lab.sleep(1)
                music_app = lab.sim.client("Music Player")
                music = music_app.open_stream(role=Role.MUSIC, display_name="Music Player", start=True)
                await show("the music app starts again: its new session inherits the persisted volume")
                volume = lab.session(music.session_id).volume
                print(f"  -> music volume after the restart: {volume:.2f}", file=out)

                print("\nFinal sessions:", file=out)
                print(session_table(lab.snapshot()), file=out)
    return seen
