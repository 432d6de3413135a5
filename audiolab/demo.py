"""The demo stories told by ``audiolab demo`` (and ``make demo``), on the simulated service and virtual time:
the session story (Windows session rules), then the focus story (HarmonyOS focus through separate sessions)."""

from __future__ import annotations

import os
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


async def focus_story(out: TextIO, png: str | os.PathLike[str] | None = None) -> list[str]:
    """Music plays; a navigation prompt and then a voice call come in through sessions of their own, under the
    HarmonyOS policy. Prints each focus transition with its cause and the music's gain measured on the meters;
    writes the focus timeline to ``png`` when given; returns the transition lines."""
    from .scenarios.meterlog import record_meters
    from .scenarios.narrate import FOCUS_EVENTS, Narrator
    from .tones import sine

    lines: list[str] = []
    seen: list[Event] = []
    said: list[object] = [None]
    narrator = Narrator()
    amplitude = 0.5
    print("\n== focus: music, a navigation prompt and a call, each its own session (HarmonyOS policy)", file=out)
    async with open_lab("sim", clock="virtual", policy="harmonyos") as lab, lab.events() as events, \
            record_meters(lab) as meters:

        async def show() -> None:
            await lab.sleep(0)
            while True:
                try:
                    event = events.receive_nowait()
                except anyio.WouldBlock:
                    break
                seen.append(event)
                if isinstance(event, FOCUS_EVENTS) and narrator.knows(event.session_id):
                    text = narrator.sentence(event)
                    if text is not None and event.kind != "StateChanged":
                        lines.append(text)
                        print(f"  {event.timestamp:6.2f}s  {text}", file=out)
                        why = getattr(event, "why", None)
                        if why is not None and why != said[-1]:  # a Ducked and its InterruptEvent share a rule
                            print(f"           why: {why}", file=out)
                        said.append(why)

        def measured(title: str) -> None:
            frame = meters.at(lab.clock.now())
            gain = frame.peaks.get(music.session_id, 0.0) / amplitude if frame else 0.0
            print(f"  {lab.clock.now():6.2f}s  -> {title}: Music measured at {gain:.2f} on the meters", file=out)

        music = await lab.play(sine(440, amplitude), role=Role.MUSIC, app="Music")
        narrator.add(music.session_id, "Music", Role.MUSIC)
        await lab.sleep(2)
        measured("alone")
        maps = await lab.play(sine(880, amplitude), role=Role.NAVIGATION, app="Maps", duration=2)
        narrator.add(maps.session_id, "Maps", Role.NAVIGATION)
        await show()
        await lab.sleep(1)
        measured("during the prompt")
        await lab.sleep(2)
        await show()
        measured("after the prompt")
        call = await lab.play(sine(350, amplitude), role=Role.VOICE_COMMUNICATION, app="Phone")
        narrator.add(call.session_id, "Phone", Role.VOICE_COMMUNICATION)
        await show()
        await lab.sleep(3)
        measured("during the call")
        await call.stop()
        await show()
        await lab.sleep(1)
        measured("after the call")
        await show()
        frames = list(meters.frames)
    if png is not None:
        try:
            write_timeline(png, seen, frames)
        except ImportError as exc:
            print(f"  (no timeline PNG: {exc.name} is missing; pip install 'audiolab-focus[widgets]')", file=out)
        else:
            print(f"  focus timeline written to {os.path.abspath(png)}", file=out)  # noqa: ASYNC240 - a string operation
    print("  (try: audiolab scenario compare music-call)", file=out)
    return lines


def write_timeline(path: str | os.PathLike[str], events: list[Event], frames: list) -> None:  # type: ignore[type-arg]
    """Draw the story's focus timeline (gains from the meters, causes as arrows) into a PNG."""
    from .widgets.timeline import FocusTimeline

    timeline = FocusTimeline.from_events(events, title="audiolab demo: music, a navigation prompt, a call")
    for frame in frames:
        timeline.add_meter_frame(frame)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    timeline.save_png(path)
