"""The dashboard's teaching controls, kernel side: start and stop tones in new sessions, switch the focus policy
and the Windows ducking setting, and reset (stop the tones, back to the policy the dashboard started with).

The browser sends ``{"kind": "teach", "do": ...}`` messages; :class:`Teacher` carries them out on the kernel's
loop and reports one line in ``say`` (the dashboard's ``status`` trait). No widget code here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._exceptions import AudiolabError, FocusDeniedError
from ..lab import Lab
from ..model import Role
from ._loop import KernelLoop

ROLES = (Role.MUSIC, Role.MOVIE, Role.GAME, Role.NAVIGATION, Role.VOICE_COMMUNICATION, Role.RINGTONE,
         Role.ALARM, Role.NOTIFICATION, Role.ASSISTANT, Role.SYSTEM)
DEFAULT_APPS = {Role.MUSIC: "Music", Role.MOVIE: "Video", Role.GAME: "Game", Role.NAVIGATION: "Maps",
                Role.VOICE_COMMUNICATION: "Phone", Role.RINGTONE: "Phone", Role.ALARM: "Clock",
                Role.NOTIFICATION: "Messages", Role.ASSISTANT: "Assistant", Role.SYSTEM: "Settings"}
POLICIES = ("harmonyos", "windows", "pulseaudio", "wireplumber", "wireplumber-0.4", "android",
            "android-automotive", "ios", "none")
DUCKING = ("mute", "reduce_80", "reduce_50", "nothing")
"""The Windows ducking settings (Sound control panel > Communications), in the panel's order."""


def role_name(role: Role) -> str:
    return role.value.replace("_", " ")


class Teacher:
    """Carries out the teaching commands for one dashboard. ``say(text, error)`` reports the outcome;
    ``playing_changed(ids)`` is told which sessions have a tone this dashboard started."""

    def __init__(self, lab: Lab, kernel: KernelLoop, say: Callable[[str, bool], None],
                 playing_changed: Callable[[set[str]], None]) -> None:
        self._lab = lab
        self._kernel = kernel
        self._say = say
        self._playing_changed = playing_changed
        self._playing: dict[str, Any] = {}
        self.policy, self.ducking = self.refresh()
        self._initial = (self.policy, self.ducking)

    def refresh(self) -> tuple[str, str]:
        """Read the policy in force again (name, Windows ducking setting); "" for a backend without one."""
        self.policy, self.ducking = self._current()
        return self.policy, self.ducking

    def _current(self) -> tuple[str, str]:
        try:
            policy = self._lab.sim.policy
        except AudiolabError:
            return "", ""
        return policy.name, str(policy.settings.get("ducking", "")) if policy.kind == "windows" else ""

    @property
    def playing(self) -> set[str]:
        """Session ids of the tones this dashboard started that still play."""
        return set(self._playing)

    def command(self, content: dict[str, Any]) -> None:
        """One message from the browser (bad values: a warning line, nothing changes)."""
        do = content.get("do")
        if do == "start":
            role = Role(str(content.get("role", "music")))
            hz = float(content.get("hz", 440))
            if not 20 <= hz <= 20000:
                raise ValueError(f"a frequency between 20 and 20000 Hz, got {hz:g}")
            app = str(content.get("app") or "").strip() or DEFAULT_APPS.get(role, "App")
            self._kernel.spawn(lambda: self._start(role, app, hz, bool(content.get("beeps", True))),
                               "audiolab-teach-start")
        elif do == "stop":
            entry = self._playing.get(str(content.get("id")))
            if entry is not None:
                self._kernel.spawn(entry.stop, "audiolab-teach-stop")
        elif do == "policy":
            name = str(content.get("policy") or self.policy)
            ducking = str(content.get("ducking") or "")
            if name not in POLICIES or (ducking and ducking not in DUCKING):
                raise ValueError(f"unknown policy or ducking setting: {name!r}, {ducking!r}")
            self._kernel.spawn(lambda: self._switch(name, ducking), "audiolab-teach-policy")
        elif do == "reset":
            self._kernel.spawn(self._reset, "audiolab-teach-reset")
        else:
            raise ValueError(f"unknown teaching command {do!r}")

    async def _start(self, role: Role, app: str, hz: float, beeps: bool) -> None:
        from ..tones import beeps as beeping
        from ..tones import sine

        tone = beeping(sine(hz, 0.5), on=0.3, off=0.2) if beeps else sine(hz, 0.5)
        try:
            playback = await self._lab.play(tone, role=role, app=app)
        except FocusDeniedError as exc:
            self._say(f"focus denied to {app} ({role_name(role)}): {exc.why or exc}", True)
            return
        except AudiolabError as exc:
            self._say(f"could not start {app}: {exc}", True)
            return
        self._say(f"{app} plays {hz:g} Hz as {role_name(role)}", False)
        sid = playback.session_id
        self._playing[sid] = playback
        self._playing_changed(self.playing)
        await playback.wait()  # ends by itself, is stopped, or the Lab closes
        if self._playing.get(sid) is playback:
            del self._playing[sid]
            self._playing_changed(self.playing)

    async def _switch(self, name: str, ducking: str) -> None:
        settings = {"ducking": ducking} if name == "windows" and ducking else {}
        try:
            await self._lab.set_policy(name, **settings)
        except (AudiolabError, ValueError) as exc:
            self._say(f"could not switch the policy: {exc}", True)
            return
        self.refresh()
        setting = f" ({self.ducking.replace('_', ' ')})" if self.ducking else ""
        self._say(f"focus policy: {name}{setting}; what plays was re-evaluated under it", False)

    async def _reset(self) -> None:
        for playback in list(self._playing.values()):
            await playback.stop()
        self._playing.clear()
        self._playing_changed(self.playing)
        policy, ducking = self._initial
        if policy and (policy, ducking) != self._current():
            await self._switch(policy, ducking)
        self._say("reset: the tones this dashboard started are stopped, the policy is back to "
                  f"{policy or 'what it was'}", False)
