"""``TeachingPanel(lab)``: start and stop tones in new sessions and switch the focus policy, without code."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from .._exceptions import AudiolabError, FocusDeniedError
from ..lab import Lab
from ..model import Role
from ._loop import KernelLoop

ROLES = (Role.MUSIC, Role.MOVIE, Role.GAME, Role.NAVIGATION, Role.VOICE_COMMUNICATION, Role.RINGTONE,
         Role.ALARM, Role.NOTIFICATION, Role.ASSISTANT, Role.SYSTEM)
DEFAULT_APPS = {Role.MUSIC: "Music", Role.MOVIE: "Video", Role.GAME: "Game", Role.NAVIGATION: "Maps",
                Role.VOICE_COMMUNICATION: "Phone", Role.RINGTONE: "Phone", Role.ALARM: "Clock",
                Role.NOTIFICATION: "Messages", Role.ASSISTANT: "Assistant", Role.SYSTEM: "Settings"}
POLICIES = ("harmonyos", "windows", "pulseaudio", "wireplumber", "none")


class TeachingPanel(w.VBox):
    """A role dropdown, a frequency, an app name and a Start button (each tone plays in a new session); a
    list of what is playing, each with Stop; and the simulated service's focus policy.

    For a classroom, ``SessionDashboard(lab, controls=True)`` has the same controls inside the dashboard's
    card (plus the Windows ducking setting and a reset), so they stay in view with it when it is pinned."""

    def __init__(self, lab: Lab, *, policy: str | None = None) -> None:
        self._kernel = KernelLoop()
        self._lab = lab
        self._playing: dict[str, Any] = {}
        self.role = w.Dropdown(options=[(r.value.replace("_", " "), r) for r in ROLES], value=Role.MUSIC,
                               description="Role", layout=w.Layout(width="230px"))
        self.frequency = w.BoundedFloatText(value=440.0, min=20.0, max=20000.0, step=10.0, description="Hz",
                                            layout=w.Layout(width="160px"))
        self.app = w.Text(value="Music", description="App", layout=w.Layout(width="200px"))
        self.pattern = w.ToggleButtons(options=["steady", "beeps"], value="beeps",
                                       style={"button_width": "70px"})
        self.start = w.Button(description="Start tone", button_style="success", icon="play")
        self.policy = w.Dropdown(options=POLICIES, description="Policy", layout=w.Layout(width="230px"))
        self.status = w.HTML()
        self.tones = w.VBox()
        try:
            current = lab.sim.policy
            self.policy.value = policy or getattr(current, "name", "harmonyos")
        except (AudiolabError, ValueError, w.TraitError):
            self.policy.disabled = policy is None
        self.role.observe(self._role_changed, names="value")
        self.start.on_click(lambda _b: self._kernel.spawn(self._start, "audiolab-panel-start"))
        self.policy.observe(self._policy_changed, names="value")
        title = w.HTML("<b style='font-size:15px'>Play with audio focus</b>")
        super().__init__([
            title,
            w.HBox([self.role, self.app, self.frequency, self.pattern, self.start]),
            w.HBox([self.policy, self.status]),
            self.tones,
        ], layout=w.Layout(border="1px solid #cbd5e1", padding="8px"))

    def _role_changed(self, change: dict[str, Any]) -> None:
        if self.app.value in DEFAULT_APPS.values() or not self.app.value:
            self.app.value = DEFAULT_APPS.get(change["new"], "App")

    def _say(self, text: str, colour: str = "#334155") -> None:
        self.status.value = f"<span style='color:{colour}'>{text}</span>"

    async def _start(self) -> None:
        from ..tones import beeps, sine

        role, app, hz = self.role.value, self.app.value.strip() or "App", float(self.frequency.value)
        tone = sine(hz, 0.5) if self.pattern.value == "steady" else beeps(sine(hz, 0.5), on=0.3, off=0.2)
        try:
            playback = await self._lab.play(tone, role=role, app=app)
        except FocusDeniedError as exc:
            self._say(f"&#x26D4; focus denied for {app} ({role.value}): {exc}", "#b91c1c")
            return
        except AudiolabError as exc:
            self._say(f"could not start: {exc}", "#b91c1c")
            return
        self._say(f"&#x25B6; {app} playing {hz:g} Hz as {role.value} in session {playback.session_id}")
        self._add_row(playback, f"{app} · {role.value.replace('_', ' ')} · {hz:g} Hz")

    def _add_row(self, playback: Any, text: str) -> None:
        stop = w.Button(description="Stop", icon="stop", layout=w.Layout(width="90px"))
        row = w.HBox([stop, w.Label(f"{text}  ({playback.session_id})")])
        self._playing[playback.session_id] = (playback, row)
        self.tones.children = (*self.tones.children, row)

        async def stop_it() -> None:
            await playback.stop()
            self._remove(playback.session_id)

        async def watch() -> None:
            await playback.wait()  # ends by itself, is stopped, or the Lab closes
            self._remove(playback.session_id)

        stop.on_click(lambda _b: self._kernel.spawn(stop_it, "audiolab-panel-stop"))
        self._kernel.spawn(watch, "audiolab-panel-watch")

    def _remove(self, session_id: str) -> None:
        entry = self._playing.pop(session_id, None)
        if entry is not None:
            self.tones.children = tuple(c for c in self.tones.children if c is not entry[1])

    def _policy_changed(self, change: dict[str, Any]) -> None:
        name = change["new"]

        async def switch() -> None:
            try:
                await self._lab.set_policy(name)
                self._say(f"focus policy is now <b>{name}</b>")
            except (AudiolabError, ValueError) as exc:
                self._say(f"could not switch policy: {exc}", "#b91c1c")

        self._kernel.spawn(switch, "audiolab-panel-policy")

    @property
    def playing(self) -> list[str]:
        """Session ids of the tones this panel started that are still playing."""
        return list(self._playing)

    def stop_all(self) -> None:
        for playback, _row in list(self._playing.values()):
            self._kernel.spawn(playback.stop, "audiolab-panel-stop")
