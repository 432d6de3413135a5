"""The tones a :class:`~audiolab.backends.wasapi.WasapiBackend` plays: launching each one's process, finding
its session by pid, tagging that pid with the app and role, watching the process and reaping it.

:class:`TonePlayers` is a part the backend holds; it sees the backend only through :class:`ToneHost`, the
backend's public enumeration and control methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import anyio

from ..._exceptions import AudiolabError, NotSupported
from ...model import Device, DeviceRole, Flow, Role, Session
from .playback import Launcher, ToneLaunch, TonePlayer, WasapiPlayback

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from ...audio.playback import PlayRequest

SESSION_TIMEOUT = 5.0
"""How long :meth:`TonePlayers.play` waits for a new tone process's session to show up."""
REFRESH_EVERY = 0.5
"""While waiting for it, enumerate again this often (in case an OnSessionCreated never comes)."""


class ToneHost(Protocol):
    """What the tones need of the backend."""

    @property
    def devices(self) -> tuple[Device, ...]: ...

    def snapshot(self) -> list[Session]: ...

    async def refresh(self) -> list[Session]: ...

    async def set_display_name(self, session_id: str, name: str) -> None: ...

    def tag_process(self, pid: int, *, app: str | None = None, role: Role | None = None) -> None: ...

    def untag_process(self, pid: int) -> None: ...


class TonePlayers:
    """Every tone playing now, each in a process of its own, hence a session of its own."""

    def __init__(self, host: ToneHost, launcher: Launcher) -> None:
        self._host = host
        self._launcher = launcher
        self._playbacks: set[WasapiPlayback] = set()
        self._unwatched: list[WasapiPlayback] = []
        self._watchers: TaskGroup | None = None

    @property
    def playbacks(self) -> frozenset[WasapiPlayback]:
        """The tones playing now (started by :meth:`play`, not yet stopped or ended)."""
        return frozenset(self._playbacks)

    def pids(self) -> set[int]:
        """The pids of the tone processes that still play."""
        return {p.pid for p in self._playbacks if not p.released}

    async def play(self, request: PlayRequest) -> WasapiPlayback:
        """Launch the tone's process and return once it plays and its session is found, named and tagged."""
        if request.cross_process or request.session_guid is not None:
            raise NotSupported(
                "the wasapi backend plays each tone in a session of its own: PortAudio opens its streams with no "
                "session GUID, so tones cannot share a session (session_guid / cross_process) here"
            )
        endpoint = self._render_endpoint(request.device)
        default = request.device is None
        tagged: set[int] = set()

        def tag(pid: int) -> None:
            # The spawned pid is the audio process's, except behind a launcher (a Windows venv's python.exe):
            # then the pid the child reports is tagged too, once it is known.
            tagged.add(pid)
            self._host.tag_process(pid, app=request.app_name, role=request.role)

        launch = ToneLaunch(request.timed_tone, request.app_name, None if default else endpoint.id,
                            None if default else endpoint.name, min(2, max(1, endpoint.channels)), tag)
        try:
            player = await self._launcher(launch)
        except BaseException:
            self._untag(tagged)
            raise
        try:
            if not isinstance(player, TonePlayer):
                raise TypeError(f"the tone launcher returned {type(player).__name__}, not a tone player")
            pid = int(player.ready_value)
            if pid not in tagged:
                tag(pid)
            session_id = await self._session_of_pid(pid, None if default else endpoint.id)
            await self._host.set_display_name(session_id, request.display_name or request.app_name)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await player.close()
            self._untag(tagged)
            raise
        playback = WasapiPlayback(request, session_id, player, pid, self._ended)
        playback.tagged = frozenset(tagged)
        self._playbacks.add(playback)
        if self._watchers is not None:
            self._watchers.start_soon(playback.watch)
        else:  # watch_until() has not started yet: it starts the watcher
            self._unwatched.append(playback)
        return playback

    async def watch_until(self, event: anyio.Event) -> None:
        """Watch every tone process until ``event`` is set (in a task group of its own, so cancelling this —
        the Lab closing — reaps them)."""
        try:
            async with anyio.create_task_group() as watchers:
                self._watchers = watchers
                unwatched, self._unwatched = self._unwatched, []
                for playback in unwatched:
                    watchers.start_soon(playback.watch)
                await event.wait()
                watchers.cancel_scope.cancel()
        finally:
            self._watchers = None

    async def stop_all(self) -> None:
        """Stop every tone, in parallel; each stop reaps its process (politely, then by killing it)."""
        playbacks = list(self._playbacks) + [p for p in self._unwatched if p not in self._playbacks]
        self._unwatched = []
        if playbacks:
            async with anyio.create_task_group() as group:
                for playback in playbacks:
                    group.start_soon(playback.stop)

    def _untag(self, pids: set[int] | frozenset[int]) -> None:
        """Forget the tags of ended tone processes (a later process may reuse a pid)."""
        live = {pid for p in self._playbacks for pid in p.tagged}
        for pid in pids - live:
            self._host.untag_process(pid)

    def _ended(self, playback: WasapiPlayback) -> None:
        self._playbacks.discard(playback)
        if playback in self._unwatched:
            self._unwatched.remove(playback)
        self._untag(playback.tagged)

    def _render_endpoint(self, device: str | None) -> Device:
        devices = self._host.devices
        renders = [d for d in devices if d.flow is Flow.RENDER]
        if device is None:
            for endpoint in renders:
                if DeviceRole.CONSOLE in endpoint.default_for:
                    return endpoint
            if renders:
                return renders[0]
            raise NotSupported("there is no active render device to play on")
        for endpoint in devices:
            if endpoint.id == device:
                if endpoint.flow is not Flow.RENDER:
                    raise ValueError(f"device {device!r} ({endpoint.name}) is a capture device: tones play on "
                                     "render devices")
                return endpoint
        known = ", ".join(f"{e.id} ({e.name})" for e in renders) or "none"
        raise ValueError(f"no active render device {device!r}; render devices: {known}")

    async def _session_of_pid(self, pid: int, endpoint_id: str | None) -> str:
        """The session of process ``pid`` (on ``endpoint_id`` if given), as it arrives through OnSessionCreated;
        enumerating again now and then, in case that notification never comes."""
        deadline = anyio.current_time() + SESSION_TIMEOUT
        next_refresh = anyio.current_time() + REFRESH_EVERY
        while True:
            for session in self._host.snapshot():
                if (session.pid == pid and not session.key.cross_process
                        and (endpoint_id is None or session.device_id == endpoint_id)):
                    return session.id
            now = anyio.current_time()
            if now > deadline:
                raise AudiolabError(
                    f"the tone process (pid {pid}) plays, but no audio session of it showed up within "
                    f"{SESSION_TIMEOUT:g} s"
                )
            if now >= next_refresh:
                next_refresh = now + REFRESH_EVERY
                await self._host.refresh()
            else:
                await anyio.sleep(0.01)
