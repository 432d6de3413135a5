"""``SessionDashboard(lab)``: one live row per session, with volume, mute, peak meter and focus state.

Traffic to the browser:

- ``order`` (the session ids in row order) is sent only when rows appear, disappear or regroup;
- what a row shows is sent only for the rows that changed, coalesced per batch of events, as one custom
  message ``{"kind": "rows_patch", "rows": {id: row, ...}, "removed": [id, ...]}``: one session's change costs
  one row whatever the number of sessions. The ``rows`` trait (every row) is synced in full only when a view
  opens (it says ``hello``) and after a resynchronisation; in the kernel, ``rows`` is kept equal to what was
  sent (full syncs and patches);
- ``peaks`` is ONE binary message per meter frame: float32 peaks in row order, at most ``fps`` per second,
  whatever the number of sessions, and only while some view of the dashboard is on screen (the front end
  reports that in ``visible``). Sending never waits for the browser (comm messages are fire and forget, and
  the Lab's meter stream keeps only the newest frame).

A volume or mute change the dashboard made itself is not echoed back: the browser already shows it.

For a classroom: :meth:`SessionDashboard.pin` keeps the dashboard in view at the top of the notebook while later
cells run (a sticky area of the notebook's scroller in JupyterLab 4); ``projector=True`` is large type;
``controls=True`` adds the teaching controls (start and stop tones, the policy, the Windows ducking setting,
reset), carried out by :class:`~audiolab.widgets._teach.Teacher`.
"""

from __future__ import annotations

import array
import json
import math
from dataclasses import dataclass
from typing import Any

import anyio
import anywidget
import traitlets

from .._by_fields import by_fields
from .._exceptions import AudiolabError, ClosedResourceError, EventOverflow
from ..events import (
    Event,
    PolicyChanged,
    SessionCreated,
    SessionDisconnected,
    SessionExpired,
    SessionRemoved,
    VolumeChanged,
)
from ..lab import Lab
from ..model import MeterFrame, check_level
from ._assets import asset
from ._board import Board
from ._echoes import OwnChanges
from ._loop import KernelLoop, log
from ._teach import DUCKING, POLICIES, ROLES, Teacher, role_name
from .listen import Listen, listen_css, listen_esm
from .pictures import display_with_picture
from .pictures import forget as forget_picture

GRID_TOLERANCE = 0.35
"""A meter frame up to this fraction of a frame interval early still counts for its slot."""


_ESM_PARTS = ("dashboard_dom.js", "dashboard_row.js", "dashboard_table.js", "dashboard_meters.js",
              "dashboard_toolbar.js", "dashboard_pin.js", "dashboard.js")
"""The dashboard's front end, one job per file, in the order they make one ES module (only the last exports)."""


def _dashboard_esm() -> str:
    """The dashboard's own ES module (without listen.js): its parts, concatenated (no bundler)."""
    return "\n".join(asset(name) for name in _ESM_PARTS)


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class DashboardStatistics:
    frames_sent: int
    """Meter frames sent (``peaks`` messages)."""
    bytes_sent: int
    """Bytes of meter frames sent."""
    rows_sent: int
    """Row messages sent: full ``rows`` syncs plus ``rows_patch`` messages."""
    order_sent: int
    echoes_suppressed: int
    commands: int
    row_patches: int = 0
    """``rows_patch`` messages sent."""
    patched_rows: int = 0
    """Rows carried by those patches (a removed row counts as one)."""
    row_bytes: int = 0
    """JSON bytes of the row messages (patches and full syncs)."""


class SessionDashboard(anywidget.AnyWidget):
    """Every session of ``lab`` as a row: app and name, role, flow and device, state badge, volume slider,
    mute toggle, peak meter with peak hold, and focus state. ``group_by_app`` groups rows per app.

    For a classroom: :meth:`pin` keeps it in view at the top of the notebook, ``projector=True`` is large
    type, ``controls=True`` adds the teaching controls (tones, the policy, the Windows ducking setting,
    reset). A session whose start was refused stays a row (state ``denied``, with the reason) for
    ``denied_linger`` seconds; an expired one for ``linger`` seconds.

    Create it in a notebook cell (it starts its tasks on the kernel's loop) and display it; ``close()``
    stops it."""

    _esm = listen_esm() + _dashboard_esm()
    _css = asset("dashboard.css") + listen_css()

    rows = traitlets.Dict().tag(sync=True)
    order = traitlets.List(traitlets.Unicode()).tag(sync=True)
    peaks = traitlets.Bytes(b"").tag(sync=True)
    visible = traitlets.Bool(False).tag(sync=True)
    group_by_app = traitlets.Bool(False).tag(sync=True)
    metering = traitlets.Bool(False).tag(sync=True)
    fps = traitlets.Float(30.0).tag(sync=True)
    title = traitlets.Unicode("Audio sessions").tag(sync=True)
    backend = traitlets.Unicode("").tag(sync=True)
    pinned = traitlets.Bool(False).tag(sync=True)
    """Kept in view at the top of the notebook (see :meth:`pin`)."""
    projector = traitlets.Bool(False).tag(sync=True)
    """Large type, for a projector."""
    controls = traitlets.Bool(False).tag(sync=True)
    """Show the teaching controls."""
    policy = traitlets.Unicode("").tag(sync=True)
    ducking = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    status_error = traitlets.Bool(False).tag(sync=True)
    choices = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        lab: Lab,
        *,
        fps: float = 30.0,
        group_by_app: bool = False,
        linger: float = 3.0,
        denied_linger: float = 60.0,
        title: str = "Audio sessions",
        controls: bool = False,
        projector: bool = False,
    ) -> None:
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 1 <= fps <= 60:
            raise ValueError(f"fps must be within 1..60, got {fps!r}")
        for name, value in (("linger", linger), ("denied_linger", denied_linger)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
        self._kernel = KernelLoop()
        self._lab = lab
        self._linger = float(linger)
        self._denied_linger = float(denied_linger)
        self._subscription = lab.events()
        self._board = Board(lab.snapshot())
        # What the browser shows per row: what was sent, plus the changes a view made itself (not echoed).
        self._shown: dict[str, dict[str, Any]] = {}
        self._patched = False  # rows were patched since the last full sync of ``rows``
        self._own = OwnChanges()
        self._show = anyio.Event()
        self._frames = self._bytes = self._rows_sent = self._order_sent = 0
        self._echoes = self._commands = 0
        self._patches = self._patched_rows = self._row_bytes = 0
        self._closed = False
        self._picture_key: tuple[str, bytes, str] | None = None
        self._picture_png = b""
        self.listen = Listen(self, lab, self._kernel)
        """The "listen" toggle's kernel side: the mix streamed to the browser (see audiolab.widgets.listen)."""
        super().__init__(fps=float(fps), group_by_app=group_by_app, title=title, backend=lab.backend_name,
                         controls=bool(controls), projector=bool(projector))
        self._teacher = Teacher(lab, self._kernel, self._say, self._playing_changed)
        self.policy, self.ducking = self._teacher.policy, self._teacher.ducking
        self.choices = {"roles": [[r.value, role_name(r)] for r in ROLES], "policies": list(POLICIES),
                        "ducking": list(DUCKING) if self.policy else []}
        self._full_sync()
        self.on_msg(self._on_front_msg)
        self._kernel.spawn(self._run_events, "audiolab-dashboard-events")
        self._kernel.spawn(self._run_meters, "audiolab-dashboard-meters")

    # --- public --------------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.order)

    def pin(self, pinned: bool = True) -> SessionDashboard:
        """Keep the dashboard in view at the top of the notebook while later cells run (``pin(False)``: back
        in its cell). Returns the dashboard, so ``SessionDashboard(lab).pin()`` displays it pinned."""
        self.pinned = bool(pinned)
        return self

    def unpin(self) -> SessionDashboard:
        """Put the dashboard back in its cell's output."""
        return self.pin(False)

    def row(self, session_id: str) -> dict[str, object]:
        """What the dashboard shows now for one session (kernel-side truth, including its own changes)."""
        return self._board.row_dict(session_id)

    def statistics(self) -> DashboardStatistics:
        return DashboardStatistics(self._frames, self._bytes, self._rows_sent, self._order_sent, self._echoes,
                                   self._commands, self._patches, self._patched_rows, self._row_bytes)

    def png(self) -> bytes:
        """A picture of what the dashboard shows now (rows and newest meter peaks), as PNG bytes."""
        from ._dashboard_picture import dashboard_png

        peaks = array.array("f", self.peaks).tolist() if len(self.peaks) % 4 == 0 else []
        return dashboard_png(self.title, self.backend, [self._board.row_dict(sid) for sid in self.order], peaks)

    def _ipython_display_(self) -> None:
        # The live view, with a picture of it for exports (refreshed when a cell ends): see pictures.py.
        display_with_picture(self, self._picture)

    def _picture(self) -> bytes:
        key = (json.dumps([self._board.row_dict(sid) for sid in self.order]), self.peaks, self.title)
        if key != self._picture_key:
            self._picture_key, self._picture_png = key, self.png()
        return self._picture_png

    def close(self) -> None:
        """Stop the dashboard's tasks and close its views."""
        if not getattr(self, "_closed", True):
            forget_picture(self)
            self._closed = True
            self.listen.close()
            self._subscription.close()
            self._show.set()
            self._kernel.cancel_all()
        super().close()

    # --- kernel -> browser ---------------------------------------------------------------------------------

    def _publish(self) -> None:
        """Send the rows that changed since the last publish (one ``rows_patch``), then ``order`` if it changed.
        Costs O(changed rows), plus O(N) for ``order`` only when rows appeared, went or regrouped."""
        dirty = self._board.take_dirty()
        patch: dict[str, Any] = {}
        removed: list[str] = []
        for sid in dirty:
            if sid in self._board.rows:
                row = self._board.row_dict(sid)
                if self._shown.get(sid) != row:
                    patch[sid] = self._shown[sid] = row
            elif sid in self._shown:
                del self._shown[sid]
                removed.append(sid)
        if patch or removed:
            for sid, row in patch.items():
                self.rows[sid] = row  # in place: no trait sync (the patch carries it)
            for sid in removed:
                self.rows.pop(sid, None)
            self._send_rows({"kind": "rows_patch", "rows": patch, "removed": removed})
            self._patches += 1
            self._patched_rows += len(patch) + len(removed)
            self._patched = True
        if self._board.reordered:
            self._publish_order()

    def _publish_order(self) -> None:
        self._board.reordered = False
        order = self._board.order(self.group_by_app)
        if order != self.order:
            self.order = order
            self._order_sent += 1

    def _send_rows(self, content: dict[str, Any]) -> None:
        data = json.dumps(content, separators=(",", ":"))
        self._row_bytes += len(data)
        self._rows_sent += 1
        self.send(content)

    def _full_sync(self) -> None:
        """Sync every row (``rows``) and ``order``: for a new view, and after falling behind the events."""
        self._board.take_dirty()
        self._shown = {sid: self._board.row_dict(sid) for sid in self._board.rows}
        self._sync_rows_trait()
        self._publish_order()

    def _sync_rows_trait(self) -> None:
        """Make the synced ``rows`` trait what the browser should show, and send it if any view may differ."""
        rows = dict(self._shown)
        if rows != self.rows or self._patched:
            self._row_bytes += len(json.dumps(rows, separators=(",", ":")))
            self._rows_sent += 1
            if rows == self.rows:
                self.rows = rows
                self.send_state("rows")  # equal in the kernel, but views applied patches to an older copy
            else:
                self.rows = rows
            self._patched = False

    @traitlets.observe("group_by_app")
    def _on_group(self, change: dict[str, Any]) -> None:
        if hasattr(self, "_board"):
            self._kernel.call(self._publish_order)

    async def _run_events(self) -> None:
        try:
            while True:
                try:
                    event = await self._subscription.receive()
                except EventOverflow:
                    log.warning("dashboard fell behind the event stream; resynchronising from a snapshot")
                    self._subscription = self._lab.events()
                    self._board = Board(self._lab.snapshot())
                    self._own.keep_only(self._board.rows.keys())
                    self._full_sync()
                    continue
                if self._lab.closed:
                    # The sessions the Lab's own closing ends are not part of the story: the view (and its
                    # picture, in an exported lesson) keeps the last state the Lab had while open.
                    self._say("The Lab is closed: the rows are as it left them.", False)
                    return
                changed = self._apply(event)
                try:
                    while not self._lab.closed:  # coalesce a burst of events into one update
                        try:
                            changed |= self._apply(self._subscription.receive_nowait())
                        except anyio.WouldBlock:
                            break
                finally:  # also when the Lab closed mid-burst: rows and order must agree (the picture reads both)
                    if changed:
                        self._publish()
        except (ClosedResourceError, AudiolabError):
            pass  # the Lab closed

    def _apply(self, event: Event) -> bool:
        own = isinstance(event, VolumeChanged) and self._own.is_echo(event)
        changed = self._board.apply(event)
        if isinstance(event, SessionCreated) and event.session_id in self._teacher.playing:
            self._board.rows[event.session_id].extra["stoppable"] = True  # its play() returned before this event
        if own and isinstance(event, VolumeChanged) and event.session_id in self._shown:
            # The browser made this change and already shows it: record it as seen there, send nothing.
            seen = {**self._shown[event.session_id], "volume": round(event.volume, 4), "muted": event.muted}
            self._shown[event.session_id] = seen
            self._echoes += 1
        if isinstance(event, SessionExpired) and self._linger >= 0:
            self._kernel.loop.call_later(self._linger, self._drop, event.session_id)
        if isinstance(event, SessionRemoved) and getattr(self._board.rows.get(event.session_id), "denied", False):
            self._kernel.loop.call_later(max(0.0, self._denied_linger), self._drop, event.session_id)
        if isinstance(event, PolicyChanged):
            self.policy, self.ducking = self._teacher.refresh()
        if isinstance(event, (SessionRemoved, SessionDisconnected)):
            self._own.forget(event.session_id)
        return changed

    def _drop(self, session_id: str) -> None:
        if self._board.rows.get(session_id) is not None and self._board.rows[session_id].ended:
            self._board.remove(session_id)
            self._own.forget(session_id)
            self._publish()

    async def _run_meters(self) -> None:
        while not self._closed:
            await self._show.wait()
            if self._closed:
                return
            interval = 1.0 / self.fps
            due = -math.inf
            try:
                # Frames are asked for at twice the rate and sent on a fixed grid of 1/fps, so that a backend
                # whose clock moves in blocks (the simulated service: 10 ms) still gives the full frame rate.
                async with self._lab.meters(rate=min(2 * self.fps, 60.0)) as frames:
                    self.metering = True
                    async for frame in frames:
                        if not self.visible or self._closed:
                            break
                        if frame.timestamp < due - GRID_TOLERANCE * interval:
                            continue
                        due = max(due + interval, frame.timestamp)
                        self._send_frame(frame)
            except (ClosedResourceError, AudiolabError):
                return
            finally:
                if not self._closed:
                    self.metering = False

    def _send_frame(self, frame: MeterFrame) -> None:
        peaks = frame.peaks
        data = array.array("f", [peaks.get(sid, 0.0) for sid in self.order]).tobytes()
        if data == self.peaks:
            return  # nothing moved: the browser keeps showing the newest values it has
        self.peaks = data
        self._frames += 1
        self._bytes += len(data)

    @traitlets.observe("visible")
    def _on_visible(self, change: dict[str, Any]) -> None:
        def update() -> None:
            if change["new"]:
                self._show.set()
            else:
                self._show = anyio.Event()

        if hasattr(self, "_kernel"):
            self._kernel.call(update)

    # --- teaching ---------------------------------------------------------------------------------------------

    def _say(self, text: str, error: bool) -> None:
        self.status, self.status_error = text, error

    def _playing_changed(self, playing: set[str]) -> None:
        """Rows of tones this dashboard started get a stop button (``stoppable``)."""
        for sid, row in self._board.rows.items():
            stoppable = sid in playing and not row.ended
            if row.extra.get("stoppable", False) != stoppable:
                row.extra["stoppable"] = stoppable
                self._board.dirty.add(sid)
        self._publish()

    # --- browser -> kernel ---------------------------------------------------------------------------------

    def _on_front_msg(self, _widget: object, content: dict[str, Any], _buffers: object) -> None:
        self._kernel.call(self._command, content)

    def _command(self, content: dict[str, Any]) -> None:
        kind = content.get("kind")
        if kind == "hello":  # a new view: it starts from the synced ``rows``, which must be the truth
            self._sync_rows_trait()
            return
        if isinstance(kind, str) and kind.startswith("listen"):
            self.listen.command(content)
            return
        try:
            if kind == "teach":
                self._teacher.command(content)
            elif kind == "volume":
                self._set(str(content["id"]), volume=check_level(content["value"]))
            elif kind == "mute":
                self._set(str(content["id"]), muted=bool(content["value"]))
            elif kind == "group_volume":
                volume = check_level(content["value"])
                for sid, row in list(self._board.rows.items()):
                    if (row.session.app or row.session.label) == content["app"] and not row.ended:
                        self._set(sid, volume=volume)
            else:
                log.warning("dashboard: unknown message from the browser: %r", content)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("dashboard: bad message from the browser %r: %s", content, exc)

    def _set(self, session_id: str, *, volume: float | None = None, muted: bool | None = None) -> None:
        row = self._board.rows.get(session_id)
        if row is None or row.ended:
            return
        self._commands += 1
        self._own.expect(session_id, volume, muted, row.volume, row.muted)
        lab = self._lab

        async def apply() -> None:
            try:
                if volume is not None:
                    await lab.set_volume(session_id, volume)
                if muted is not None:
                    await lab.set_mute(session_id, muted)
            except AudiolabError as exc:
                log.warning("dashboard: could not change %s: %s", session_id, exc)

        self._kernel.spawn(apply, "audiolab-dashboard-set")
