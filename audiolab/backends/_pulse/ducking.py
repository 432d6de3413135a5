"""Measured ducking: what a policy module really did to a tone, read off the server's own peak meters.

PulseAudio's module-role-ducking multiplies a ducked stream by an extra volume factor that the stream's
reported volume does not show (see shared/reference/linux). audiolab knows what each of its own tones
should measure, so it measures the difference:

    expected peak (channel c) = tone amplitude x pan gain(c) x volume(c) ** 3      (0 when muted or corked)
    gain = measured peak / expected peak   ->   gain_db = 20 log10(gain)

A :class:`GainTracker` per playback turns the stream of ``gain_db`` samples into transitions, with
hysteresis so meter noise does not flap: a change starts at the first sample more than ``START_DB`` away
from the current level, counts only once ``CONFIRM`` samples are more than ``THRESHOLD_DB`` away, and is
*settled* once ``SETTLE_SAMPLES`` samples in a row lie within ``SETTLE_DB`` of their mean (the new level).
``fade_seconds`` = time of the first settled sample - time of the first changed sample (so it has the meter's
resolution, 1 / meter_rate). A settled level within ``THRESHOLD_DB`` of 0 dB is "not ducked".

Silence (below ``SILENT_DB``) is held back until it has lasted ``DROPOUT_SECONDS``: a player starved by a busy
machine underruns and meters silent for a moment, which is not ducking. Silence that lasts (a duck to 0 %)
is then fed with its own timestamps, so only its report is later, not its measured fade.

Samples are skipped (and a pending change dropped) for ``GRACE_SECONDS`` after anything that changes the
expected peak (amplitude, volume, mute, cork), since the meter lags the server by its buffers; and for tones
whose peak over one meter slice is not their amplitude (cadences, DTMF, dual tones, pink noise).

The cause of a duck is the most recently activated session, other than the ducked one, whose role is a
trigger role (read from the loaded module-role-ducking / module-role-cork arguments; ``phone`` otherwise);
the cause of an unduck is the trigger session that most recently stopped, within ``CAUSE_WINDOW`` seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..._by_fields import by_fields
from ...audio.sources import pan_gains
from ...audio.synth import PERIODIC_WAVEFORMS, Tone
from ...events import Event, SessionCreated, SessionRemoved, StateChanged, VolumeChanged
from ...focus.in_force import PolicyInForce
from ...model import Session, SessionState
from ...reason import Reason
from .volume import gain_from_level

START_DB = 0.5
THRESHOLD_DB = 1.5
CONFIRM = 3
SETTLE_DB = 0.5
SETTLE_SAMPLES = 4
GRACE_SECONDS = 0.4
CAUSE_WINDOW = 5.0
EVENT_LAG = 0.5
"""How much later than the meter's first changed sample a cause's own event may be stamped: the meter shows
the server's action at once, the session's event only after audiolab re-read it (later on a busy machine)."""
RUN_WINDOW = 256
"""A change in progress keeps its first sample (its start) and at most this many samples in all (~8.5 s at
30 Hz): a level that never settles does not grow the tracker without bound."""
STOPPED_KEEP = 60.0
"""Stopped trigger sessions are forgotten this long after they stopped (only the last CAUSE_WINDOW seconds name a
cause; the margin covers transitions that took long to settle)."""
MIN_EXPECTED = 1e-4
SILENT_DB = -90.0
DROPOUT_SECONDS = 1.0
DEFAULT_TRIGGER_ROLES = frozenset({"phone"})


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Transition:
    """A settled change of a tone's measured gain."""

    ducked: bool
    gain: float
    started: float
    settled: float

    @property
    def fade_seconds(self) -> float:
        return max(0.0, self.settled - self.started)


@dataclass
class GainTracker:
    """Hysteresis over measured gain samples (dB); :meth:`feed` returns a Transition when one settles."""

    level_db: float = 0.0
    ducked: bool = False
    _run: list[tuple[float, float]] = field(default_factory=list)
    _silence: list[tuple[float, float]] = field(default_factory=list)
    _silence_lasts: bool = False

    def reset(self) -> None:
        """Forget a change in progress (the expected level changed under it)."""
        self._run = []
        self._silence = []
        self._silence_lasts = False

    def feed(self, t: float, gain_db: float) -> Transition | None:
        gain_db = max(gain_db, -120.0)
        if gain_db > SILENT_DB:
            self._silence, self._silence_lasts = [], False  # a dropout ended: its samples are dropped
            return self._track(t, gain_db)
        if self._silence_lasts:
            return self._track(t, gain_db)
        self._silence.append((t, gain_db))
        if t - self._silence[0][0] < DROPOUT_SECONDS:
            return None
        held, self._silence, self._silence_lasts = self._silence, [], True
        settled = None
        for held_t, held_db in held:
            settled = self._track(held_t, held_db) or settled
        return settled

    def _track(self, t: float, gain_db: float) -> Transition | None:
        if not self._run:
            if abs(gain_db - self.level_db) > START_DB:
                self._run = [(t, gain_db)]
            return None
        self._run.append((t, gain_db))
        if len(self._run) > RUN_WINDOW:
            del self._run[1 : len(self._run) - RUN_WINDOW + 1]  # keep the start, and the latest samples
        if abs(gain_db - self.level_db) <= START_DB and len(self._run) <= CONFIRM:
            self._run = []  # noise: back at the old level before the change was confirmed
            return None
        away = sum(abs(db - self.level_db) > THRESHOLD_DB for _, db in self._run)
        if away < CONFIRM or len(self._run) < SETTLE_SAMPLES:
            return None
        tail = [db for _, db in self._run[-SETTLE_SAMPLES:]]
        level = sum(tail) / len(tail)
        if max(abs(db - level) for db in tail) > SETTLE_DB:
            return None
        first = len(self._run) - SETTLE_SAMPLES
        while first > 0 and abs(self._run[first - 1][1] - level) <= SETTLE_DB:
            first -= 1
        started, settled = self._run[0][0], self._run[first][0]
        self._run = []
        if abs(level - self.level_db) <= THRESHOLD_DB:
            return None  # wandered and came back
        ducked = level < -THRESHOLD_DB
        was_ducked, self.ducked, self.level_db = self.ducked, ducked, (level if ducked else 0.0)
        if not ducked and not was_ducked:
            return None
        return Transition(ducked, 10.0 ** (level / 20.0), started, settled)


def measurable(tone: Tone) -> bool:
    """Whether the peak of every meter slice of this tone is its amplitude (so gain can be measured)."""
    if tone.cadence or tone.frequency2 is not None:
        return False
    return tone.waveform in (*PERIODIC_WAVEFORMS, "sweep", "white")


def expected_peaks(amplitude: float, pan: float, volumes: Sequence[float], muted: bool) -> list[float]:
    """Per-channel peaks a tone should meter at this stream volume (PulseAudio's cubic software scale)."""
    if muted:
        return [0.0] * len(volumes)
    gains = pan_gains(pan, len(volumes))
    return [amplitude * float(g) * gain_from_level(v) for g, v in zip(gains, volumes, strict=True)]


def measured_gain_db(measured: Sequence[float], expected: Sequence[float]) -> float | None:
    """The mean over usable channels of measured/expected in dB; None when nothing is expected."""
    values = [
        20.0 * math.log10(max(m, 1e-9) / e) for m, e in zip(measured, expected, strict=False) if e > MIN_EXPECTED
    ]
    return sum(values) / len(values) if values else None


def trigger_roles_from_modules(modules: Iterable[tuple[str, str]]) -> frozenset[str]:
    """Trigger roles of loaded module-role-ducking / module-role-cork, from (name, argument) pairs."""
    roles: set[str] = set()
    for name, argument in modules:
        if name in ("module-role-ducking", "module-role-cork"):
            found = re.search(r"trigger_roles=\"?([^\s\"]+)", argument or "")
            roles.update(found.group(1).replace("/", ",").split(",") if found else DEFAULT_TRIGGER_ROLES)
    return frozenset(r for r in roles if r) or DEFAULT_TRIGGER_ROLES


class Causes:
    """When sessions with a trigger role became active or stopped, to name the cause of a (un)duck."""

    def __init__(self, trigger_roles: frozenset[str] = DEFAULT_TRIGGER_ROLES) -> None:
        self.trigger_roles = trigger_roles
        self._active: dict[str, float] = {}
        self._stopped: dict[str, float] = {}
        self._roles: dict[str, str] = {}

    def observe(self, event: Event, sessions: dict[str, Session]) -> None:
        sid = event.session_id
        if isinstance(event, SessionCreated):
            self._roles[sid] = event.session.role.pulse_media_role
            if event.session.state is SessionState.ACTIVE and not event.session.muted:
                self._start(sid, event.timestamp)
        elif isinstance(event, StateChanged):
            session = sessions.get(sid)
            if event.new is SessionState.ACTIVE and not (session and session.muted):
                self._start(sid, event.timestamp)
            else:
                self._stop(sid, event.timestamp)
        elif isinstance(event, VolumeChanged):
            session = sessions.get(sid)
            if event.muted:
                self._stop(sid, event.timestamp)
            elif session is not None and session.state is SessionState.ACTIVE:
                self._start(sid, event.timestamp)
        elif isinstance(event, SessionRemoved):
            self._stop(sid, event.timestamp)
            self._roles.pop(sid, None)

    def _start(self, sid: str, t: float) -> None:
        if self._roles.get(sid) in self.trigger_roles and sid not in self._active:
            self._active[sid] = t
            self._stopped.pop(sid, None)

    def _stop(self, sid: str, t: float) -> None:
        if self._active.pop(sid, None) is not None:
            self._stopped[sid] = t
        self._prune(t)

    def _prune(self, now: float) -> None:
        """Forget trigger sessions that stopped more than STOPPED_KEEP seconds ago (they can name no cause)."""
        for old in [sid for sid, t in self._stopped.items() if t < now - STOPPED_KEEP]:
            del self._stopped[old]

    def of_duck(self, ducked: str, when: float) -> str | None:
        candidates = [(t, sid) for sid, t in self._active.items() if sid != ducked and t <= when + EVENT_LAG]
        return max(candidates)[1] if candidates else None

    def of_unduck(self, unducked: str, when: float) -> str | None:
        candidates = [
            (t, sid) for sid, t in self._stopped.items()
            if sid != unducked and when - CAUSE_WINDOW <= t <= when + EVENT_LAG
        ]
        return max(candidates)[1] if candidates else None


def why_measured(policy: PolicyInForce | None, sessions: Mapping[str, Session], sid: str, cause: str | None,
                 ducked: bool, gain: float) -> Reason:
    """The reason of a duck (``ducked``) or unduck measured on one of audiolab's own tones: the rule of the
    policy in force that predicts it for the cause, else a measured reason that says no loaded rule predicts it."""
    from ...explain import predict_trigger  # here: explain imports the Lab, which imports the backends

    victim, trigger = sessions.get(sid), sessions.get(cause or "")
    if policy is not None and victim is not None and trigger is not None:
        active = [replace(victim, state=SessionState.ACTIVE)]
        predicted = predict_trigger(policy.policy, active, replace(trigger, state=SessionState.ACTIVE), ducked)
        if sid in predicted:
            why = predicted[sid].why
            return why if ducked else why.release()
    who = trigger.label if trigger is not None else (cause or "no session audiolab saw")
    name = victim.label if victim is not None else sid
    change = 20 * math.log10(gain) if gain > 0 else -math.inf
    text = (f"{name}'s tone measured {change:+.1f} dB against what it plays, around {who}, and no rule of the policy "
            "in force predicts it (another program, a device volume, or a policy audiolab cannot see)")
    return Reason(policy="measured", kind="unexplained", text=text + ".", released=not ducked,
                  rule={"trigger_session": cause or "", "measured_db": round(change, 2)}, label="unexplained")
