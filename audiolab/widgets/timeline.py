"""``FocusTimeline``: each session's effective gain (dB) and state over time, focus transitions marked, and an
arrow from each cause to its effect (the navigation prompt that ducked the music, the call that paused it).

    FocusTimeline.from_events(events).save_png("timeline.png")   # a recorded list of events
    timeline = FocusTimeline(lab)    # live: records lab.events() and meters; display it in a notebook

Effective gain = volume x focus gain while the session plays; 0 ("silent") while it is muted or not Active
(inactive, paused by another session, expired). Drawn in dB from -60 dB ("silent") to 0 dB.

A live timeline keeps a window of the last ``window`` seconds (default :data:`LIVE_WINDOW_SECONDS`, 5 minutes):
older events, gain and state points, peaks, transitions and ended sessions are dropped (pruned about once a
second of recording), so it can run for hours in a notebook. A recorded timeline (``from_events``) keeps
everything it was given.

Three parts: the recording (:mod:`.timeline_model`, plain data folded from events and meter frames), its
drawing (:mod:`.timeline_plot`, matplotlib's object API, no pyplot state) and this widget, which records a
live Lab and shows the drawing, rendered off the kernel's loop thread.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..events import Event
from ..model import MeterFrame, Session
from .timeline_model import Recording, Transition
from .timeline_plot import draw, png_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..lab import Lab

METER_RATE = 10.0
"""Meter frames a second a live timeline records."""
LIVE_WINDOW_SECONDS = 300.0
"""What a live FocusTimeline keeps: the last 5 minutes."""


class FocusTimeline:
    """Effective gain and state of every session over time, with focus transitions and cause -> effect
    arrows. ``FocusTimeline(lab)`` records live (display it: it redraws at most every ``refresh`` seconds) and
    keeps the last ``window`` seconds (5 minutes by default; ``None`` keeps everything, growing without bound);
    ``FocusTimeline.from_events(events)`` draws a recorded list, all of it."""

    def __init__(self, lab: Lab | None = None, *, title: str = "Audio focus timeline", refresh: float = 1.0,
                 meters: bool = True, window: float | None = LIVE_WINDOW_SECONDS) -> None:
        if window is not None and not window > 0:
            raise ValueError(f"window must be a positive number of seconds or None, got {window!r}")
        self.title = title
        self.refresh = refresh
        self._rec = Recording(window if lab is not None else None)
        self._lab = lab
        self._image: Any = None
        self._picture_key: tuple[int, float] | None = None
        self._picture_png = b""
        self._dirty = False
        self._stopped = lab is None
        self._kernel: Any = None
        if lab is not None:
            from ._loop import KernelLoop

            self._kernel = KernelLoop()
            self._subscription = lab.events()
            self._rec.seed(lab.snapshot(), lab.clock.now())
            self._kernel.spawn(self._record_events, "audiolab-timeline-events")
            if meters:
                self._kernel.spawn(self._record_meters, "audiolab-timeline-meters")

    @classmethod
    def from_events(cls, events: Iterable[Event], *, sessions: Iterable[Session] = (),
                    title: str = "Audio focus timeline", start: float | None = None) -> FocusTimeline:
        """A timeline of recorded events (``sessions`` that existed before the first event may be given, as
        they were at ``start``, by default the first event's time)."""
        timeline = cls(title=title)
        events = list(events)
        if sessions:
            timeline._rec.seed(sessions, start if start is not None else events[0].timestamp if events else 0.0)
        for event in events:
            timeline.add(event)
        return timeline

    # --- recording -----------------------------------------------------------------------------------------

    def add(self, event: Event) -> None:
        """Fold one event in."""
        self._rec.add(event)
        self._dirty = True

    def add_meter_frame(self, frame: MeterFrame) -> None:
        self._rec.add_meter(frame)
        self._dirty = True

    @property
    def events(self) -> list[Event]:
        """The events kept (a live timeline: those of its window)."""
        return list(self._rec.events)

    @property
    def window(self) -> float | None:
        """Seconds of history kept (None: everything)."""
        return self._rec.window

    @property
    def transitions(self) -> list[Transition]:
        return list(self._rec.transitions)

    async def _record_events(self) -> None:
        from .._exceptions import AudiolabError

        try:
            async for event in self._subscription:
                self.add(event)
        except AudiolabError:
            pass
        finally:
            self._stopped = True

    async def _record_meters(self) -> None:
        from .._exceptions import AudiolabError

        assert self._lab is not None
        try:
            async with self._lab.meters(rate=METER_RATE) as frames:
                async for frame in frames:
                    if self._stopped:
                        break
                    self.add_meter_frame(frame)
        except AudiolabError:
            pass

    def stop(self) -> None:
        """Stop recording (the drawing keeps what was recorded)."""
        self._stopped = True
        if self._lab is not None:
            self._subscription.close()
        if self._kernel is not None:
            self._kernel.cancel_all()
            if self._image is not None:
                self._image.value = self.png()

    # --- drawing -------------------------------------------------------------------------------------------

    def figure(self) -> Figure:
        """The timeline as a matplotlib Figure."""
        return draw(self._rec, title=self.title)

    def png(self, dpi: int = 110) -> bytes:
        return png_bytes(self._rec, self.title, dpi)

    def save_png(self, path: str | os.PathLike[str], dpi: int = 110) -> None:
        """Write the timeline as a PNG file."""
        with open(path, "wb") as f:
            f.write(self.png(dpi))

    def _repr_png_(self) -> bytes:
        return self.png()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if self._kernel is None or self._stopped:
            return {"image/png": self.png(), "text/plain": repr(self)}
        return self._live_image()._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        if self._kernel is None or self._stopped:
            import base64

            from IPython.display import display

            png = base64.b64encode(self.png()).decode("ascii")
            display({"image/png": png, "text/plain": repr(self)}, raw=True)  # type: ignore[no-untyped-call]
            return
        # The live image, with the picture beside it for exports (refreshed when a cell ends): see pictures.py.
        from .pictures import display_with_picture

        display_with_picture(self._live_image(), self._picture)

    def _live_image(self) -> Any:
        if self._image is None:
            import ipywidgets

            self._image = ipywidgets.Image(value=self.png(), format="png",
                                           layout=ipywidgets.Layout(max_width="100%"))
            self._kernel.spawn(self._refresh, "audiolab-timeline-refresh")
        return self._image

    def _picture(self) -> bytes:
        """The PNG for exports, drawn again only when something was recorded since."""
        key = (self._rec.size(), self._rec.t_last)
        if self._picture_key != key:
            self._picture_key, self._picture_png = key, self.png()
        return self._picture_png

    async def _refresh(self) -> None:
        while not self._stopped:
            await asyncio.sleep(self.refresh)
            if self._dirty:
                self._dirty = False
                snapshot = self._rec.copy()
                self._image.value = await asyncio.to_thread(png_bytes, snapshot, self.title)

    def __repr__(self) -> str:
        mode = "live" if not self._stopped else "recorded"
        return (f"<FocusTimeline {mode}: {len(self._rec.tracks)} sessions, {len(self._rec.events)} events, "
                f"{len(self._rec.transitions)} focus transitions>")
