"""Ducking of any app, measured: each session's level from its meter around every trigger, compared with the
policy in force.

A *trigger* is a render stream starting or stopping (a session appearing active, going active or inactive, or
ending). Around it, every other playing render session's level is taken over a window before the trigger and a
window after it (past a settling time that covers fades and the meter's lag). A session's *level* over a window
is a high percentile of its meter's peaks, which is steady for tones, noise, speech and music alike, where an
average or a single peak is not. Then:

- the policy predicts a duck or a silence: ``Ducked`` with the measured change (``measured_db``) and the rule;
  a predicted silence reads as "silenced" (the gain 0.0) when the level fell below the meter's floor;
- nothing predicts it but the level stepped down by :attr:`DetectorSettings.unexplained_db` or more, and stayed
  down over a second after-window (so a pause in speech is not taken for a duck): ``Ducked`` whose reason has
  kind ``"unexplained"`` (for a debugger, the most valuable line of all);
- the trigger stops and a session it had ducked comes back: ``Unducked`` with the measured change;
- a window before or after is silent (the session was not audible), or the session's own volume or mute
  changed meanwhile (that change has an event and an origin of its own): not measurable, nothing is guessed.

Where the server applies a gain to a session outside the session's own volume and says so (WirePlumber 0.4's
role endpoints duck a role by turning down its endpoint's monitor volume: a :class:`ServerGain`), that gain is
noted with every frame too. When the meter gives no level to compare on both sides of a trigger (under that
policy no sink can be metered at all: see :mod:`audiolab.backends._pulse.meter_view`), the change of that gain
is the measurement; when it does, the meter's figure is kept and the server's setting is named beside it.
Either way the reason's ``rule`` says what was measured (``measured_from``, ``server_setting``) and its text
says how.

Level changes that coincide with no trigger are never looked at, so a song getting quieter, beeps or a pause
are not reported. Corking (a session paused by the server when a trigger starts) is reported by the backend's
events, not by this module.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from ._by_fields import by_fields
from ._server_gain import ServerGain, measured_by, server_step
from .events import (
    ChannelVolumeChanged,
    Ducked,
    Event,
    InterruptEvent,
    SessionCreated,
    SessionRemoved,
    StateChanged,
    Unducked,
    VolumeChanged,
)
from .model import Flow, ForceType, InterruptHint, MeterFrame, Origin, Session, SessionState
from .reason import Reason

CORK_LEAD = 0.5
"""How long before the server reports a trigger it may already have corked a stream, or changed a gain it applies
(a :class:`ServerGain`), because of it (seconds)."""

Predictor = Callable[[list[Session], Session, bool], dict[str, "Predicted"]]
"""``predict(playing, trigger, started)`` -> {session id: Predicted} for the sessions the policy says the trigger
acts on (``started`` False: the trigger stopped, and these are what it had imposed)."""


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class Predicted:
    """What the policy says a trigger does to a session: ``duck`` (to ``gain``) or ``pause`` (a cork)."""

    action: str
    gain: float
    why: Reason


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class DetectorSettings:
    """Windows and thresholds of the detector (seconds, dB). The defaults are documented in the README."""

    before: float = 2.5
    """Seconds of level taken before a trigger."""
    guard: float = 0.15
    """Seconds skipped just before a trigger (the meter lags the server)."""
    settle: float = 0.35
    """Seconds skipped after a trigger (fades, buffers, the meter's lag)."""
    after: float = 1.5
    """Seconds of level taken after the settling time."""
    percentile: float = 0.9
    """Which percentile of a window's peaks is its level."""
    floor: float = 10 ** (-60 / 20)
    """Peaks below it (-60 dBFS) are silence."""
    unexplained_db: float = 6.0
    """The smallest step down reported when no rule predicts it."""
    history: float = 8.0
    """Seconds of meter peaks kept per session."""


@dataclass
class _Pending:
    trigger: str
    started: bool
    at: float
    targets: dict[str, Predicted | None]
    """Each session that was playing: its prediction, or None (watched for an unexplained step)."""
    corked: set[str] = field(default_factory=set)
    """Sessions predicted paused that the server did pause (reported at once)."""
    judged: bool = False
    """Its predicted changes are judged; what is left waits for a second window."""


@dataclass
class _Session:
    peaks: deque[tuple[float, float]] = field(default_factory=deque)
    changed_at: float = -math.inf
    """When its own volume or mute last changed (a change with an event of its own)."""
    gains: deque[tuple[float, ServerGain]] = field(default_factory=deque)
    """The server's gain on it outside its own volume, each time it changed."""


class DuckDetector:
    """Turns meter frames and session events into measured ``Ducked`` / ``Unducked`` events. Feed it every
    event with :meth:`observe` and every meter frame with :meth:`feed`; :meth:`feed` returns what it found.
    ``server_gain(session id)``, when given, is the gain the server applies to a session outside its own volume
    (a :class:`ServerGain`, or None), read with every frame."""

    def __init__(self, predict: Predictor, settings: DetectorSettings | None = None,
                 ignore: Callable[[str], bool] = lambda sid: False,
                 server_gain: Callable[[str], ServerGain | None] | None = None) -> None:
        self._predict = predict
        self.settings = settings or DetectorSettings()
        self._ignore = ignore
        self._server_gain = server_gain
        self._sessions: dict[str, Session] = {}
        self._levels: dict[str, _Session] = {}
        self._pending: list[_Pending] = []
        self._ducked: dict[str, tuple[str, Reason | None, float]] = {}
        """Sessions this detector reported ducked, with the trigger, the reason and when the duck began."""
        self._paused: dict[str, tuple[str, Reason]] = {}
        """Sessions this detector reported paused (corked) by a trigger, with the reason."""
        self._out: list[Event] = []
        """Events found by :meth:`observe`, handed out by the next :meth:`feed` (or :meth:`take`)."""
        self._silenced: dict[str, tuple[float, Session]] = {}
        """Sessions that just went inactive or were muted by another client, with when and as they were: the
        server may cork a stream before it reports the trigger that made it."""

    # --- input ----------------------------------------------------------------------------------------------

    def seed(self, sessions: Iterable[Session]) -> None:
        """The sessions that exist when detection starts."""
        for s in sessions:
            self._sessions[s.id] = s

    def observe(self, event: Event) -> None:
        """Note a session event: a render stream starting or stopping is a trigger."""
        sid = event.session_id
        if isinstance(event, SessionCreated):
            self._sessions[sid] = event.session
            if self._uncorked_by_policy(sid, event):
                return  # WirePlumber 0.4 brings a corked stream back to its sink: the policy's doing
            if event.session.state is SessionState.ACTIVE:
                self._trigger(event.session, True, event.timestamp)
        elif isinstance(event, StateChanged) and sid in self._sessions:
            before = self._sessions[sid]
            now = _with_state(before, event.new)
            self._sessions[sid] = now
            if self._corked_by_policy(sid, event) or self._uncorked_by_policy(sid, event):
                return  # the server paused or resumed it as the policy says: not a trigger of its own
            if event.new is SessionState.ACTIVE and event.old is not SessionState.ACTIVE:
                self._silenced.pop(sid, None)
                self._trigger(now, True, event.timestamp)
            elif event.old is SessionState.ACTIVE and event.new is not SessionState.ACTIVE:
                self._silenced[sid] = (event.timestamp, before)
                self._trigger(before, False, event.timestamp)
        elif isinstance(event, SessionRemoved) and sid in self._sessions:
            gone = self._sessions.pop(sid)
            if self._corked_by_policy(sid, event):
                return  # WirePlumber 0.4 corks a stream by taking it off every sink: it leaves, then comes back
            self._levels.pop(sid, None)
            self._ducked.pop(sid, None)
            self._paused.pop(sid, None)
            if gone.state is SessionState.ACTIVE:
                self._trigger(gone, False, event.timestamp)
        elif isinstance(event, VolumeChanged) and (self._corked_by_policy(sid, event) or
                                                    self._uncorked_by_policy(sid, event)):
            pass  # role-cork mutes what it corks: the policy's doing, not the user's
        elif isinstance(event, VolumeChanged) and event.muted and event.origin is Origin.OTHER_CLIENT \
                and sid in self._sessions:
            self._silenced.setdefault(sid, (event.timestamp, self._sessions[sid]))
            self._levels.setdefault(sid, _Session()).changed_at = event.timestamp
        elif isinstance(event, (VolumeChanged, ChannelVolumeChanged)):
            self._levels.setdefault(sid, _Session()).changed_at = event.timestamp

    def take(self) -> list[Event]:
        """The events :meth:`observe` found (pauses and resumes), once."""
        out, self._out = self._out, []
        return out

    def _corked_by_policy(self, sid: str, event: StateChanged | VolumeChanged | SessionRemoved) -> bool:
        """A session the policy predicted paused by a trigger that just started went inactive or was muted by
        another client (PulseAudio's role-cork does both), or left every sink (WirePlumber 0.4's cork): the
        cork, reported once."""
        if isinstance(event, StateChanged) and event.new is SessionState.ACTIVE:
            return False
        if isinstance(event, VolumeChanged) and not (event.muted and event.origin is Origin.OTHER_CLIENT):
            return False
        if sid in self._paused:
            return True
        for pending in reversed(self._pending):
            predicted = pending.targets.get(sid)
            if pending.started and predicted is not None and predicted.action == "pause" and \
                    pending.at - self.settings.guard <= event.timestamp <= pending.at + self.settings.settle + \
                    self.settings.after:
                self._cork(pending, sid, predicted, event.timestamp)
                return True
        return False

    def _cork(self, pending: _Pending, sid: str, predicted: Predicted, recent_at: float) -> None:
        pending.corked.add(sid)
        self._paused[sid] = (pending.trigger, predicted.why)
        self._silenced.pop(sid, None)
        # its going quiet was the cork, not a stream of its own stopping
        self._pending = [p for p in self._pending if not (p.trigger == sid and not p.started)]
        self._out.append(InterruptEvent(timestamp=recent_at, session_id=sid, force_type=ForceType.FORCE,
                                        hint=InterruptHint.PAUSE, cause_session_id=pending.trigger, why=predicted.why))

    def _uncorked_by_policy(self, sid: str, event: StateChanged | VolumeChanged | SessionCreated) -> bool:
        """A session this detector saw corked came back (uncorked or unmuted): its resume, reported once."""
        held = self._paused.get(sid)
        if held is None:
            return False
        if isinstance(event, StateChanged) and event.new is not SessionState.ACTIVE:
            return False
        if isinstance(event, VolumeChanged) and event.muted:
            return False
        del self._paused[sid]
        self._out.append(InterruptEvent(timestamp=event.timestamp, session_id=sid, force_type=ForceType.FORCE,
                                        hint=InterruptHint.RESUME, cause_session_id=held[0], why=held[1].release()))
        return True

    def feed(self, frame: MeterFrame) -> list[Event]:
        """Add a meter frame; returns the ducks and unducks whose after-window it completes, and the pauses
        and resumes seen since the previous call."""
        keep = frame.timestamp - self.settings.history
        for sid in [sid for sid, (when, _) in self._silenced.items() if when < keep]:
            del self._silenced[sid]  # long past any trigger it could belong to: bounded over a long run
        for sid, peak in frame.peaks.items():
            track = self._levels.setdefault(sid, _Session())
            track.peaks.append((frame.timestamp, peak))
            while track.peaks and track.peaks[0][0] < keep:
                track.peaks.popleft()
            gain = self._server_gain(sid) if self._server_gain is not None else None
            if gain is not None and (not track.gains or track.gains[-1][1] != gain):
                track.gains.append((frame.timestamp, gain))
            while len(track.gains) > 1 and track.gains[1][0] <= keep:
                track.gains.popleft()  # the one before the window stays: it held at the window's start
        s = self.settings
        out = self.take()
        for pending in list(self._pending):
            if not pending.judged and frame.timestamp >= pending.at + s.settle + s.after:
                pending.judged = True
                out += self._judge(pending, frame.timestamp, predicted_only=True)
            if frame.timestamp >= pending.at + s.settle + 2 * s.after:
                self._pending.remove(pending)
                out += self._judge(pending, frame.timestamp, predicted_only=False)
        return out

    # --- judging --------------------------------------------------------------------------------------------

    def _trigger(self, session: Session, started: bool, at: float) -> None:
        if session.flow is not Flow.RENDER:
            return
        recent = {sid: was for sid, (when, was) in self._silenced.items()
                  if at - CORK_LEAD <= when <= at and sid != session.id}
        playing = [s for s in self._sessions.values() if s.flow is Flow.RENDER and s.state is SessionState.ACTIVE
                   and s.id != session.id and s.id not in recent and not self._ignore(s.id)]
        playing += [was for sid, was in recent.items() if not self._ignore(sid)]
        if not playing:
            return
        predicted = self._predict(playing, session, started)
        targets: dict[str, Predicted | None] = {s.id: predicted.get(s.id) for s in playing}
        pending = _Pending(session.id, started, at, targets)
        self._pending.append(pending)
        if started:
            for sid in recent:  # corked just before the server reported its trigger
                guess = targets.get(sid)
                if guess is not None and guess.action == "pause" and sid not in self._paused:
                    self._cork(pending, sid, guess, recent_at=self._silenced[sid][0])

    def _judge(self, pending: _Pending, now: float, *, predicted_only: bool) -> list[Event]:
        """Predicted changes (and unducks) once the first after-window is complete; unpredicted steps once a
        second one confirms the level stayed down (a pause in speech or a quiet bar is not a duck)."""
        s = self.settings
        out: list[Event] = []
        for sid, predicted in pending.targets.items():
            if predicted_only != (predicted is not None or not pending.started):
                continue
            track = self._levels.get(sid)
            if track is None or sid not in self._sessions or sid in pending.corked:
                continue
            if predicted is not None and predicted.action == "pause":
                continue  # a cork shows as a state change (above), not as a level
            if pending.at - s.before - s.guard <= track.changed_at <= pending.at + s.settle + s.after:
                continue  # its own volume changed: that has an event and an origin of its own
            if pending.started and predicted is None and self._ducked_by_another(sid, pending):
                continue  # the step it would see is that duck, already reported with its cause
            start = pending.at - s.guard - s.before
            held = self._ducked.get(sid)
            if not pending.started and held is not None and held[0] == pending.trigger:
                start = max(start, held[2] + s.settle)  # an unduck is measured against the ducked level
            before = self._level(track, start, pending.at - s.guard)
            after = self._level(track, pending.at + s.settle, pending.at + s.settle + s.after)
            if not predicted_only and after is not None:  # the step must hold over a second window too
                later = self._level(track, pending.at + s.settle + s.after, pending.at + s.settle + 2 * s.after)
                after = max(after, later) if later is not None else None
            ends = [pending.at + s.settle + s.after] + ([] if predicted_only else [pending.at + s.settle + 2 * s.after])
            # the server may act before it reports the trigger (a new stream settles up to 0.2 s on PipeWire)
            step = server_step(track.gains, pending.at - CORK_LEAD, ends)
            audible = before is not None and after is not None and min(before, after) >= s.floor
            if step is not None and not audible:
                event = self._verdict_from_server(pending, sid, predicted, step, now)
            elif before is None or after is None:
                continue
            else:
                event = self._verdict(pending, sid, predicted, before, after, now)
                if isinstance(event, (Ducked, Unducked)) and event.why is not None and step is not None:
                    event = replace(event, why=measured_by(event.why, step, on_meter=True))
            if event is not None:
                out.append(event)
        return out

    def _verdict(self, pending: _Pending, sid: str, predicted: Predicted | None,
                 before: float, after: float, now: float) -> Event | None:
        s = self.settings
        audible_before, audible_after = before >= s.floor, after >= s.floor
        if pending.started:
            if predicted is not None:
                gain, why = predicted.gain, predicted.why
                if not audible_before:
                    return None  # silent before: not measurable
                if not audible_after:  # silenced: below the meter's floor
                    measured = 0.0 if gain <= s.floor else None
                    if measured is None:
                        return None  # silent after, though the rule leaves sound: not measurable (paused?)
                else:
                    measured = after / before
                self._ducked[sid] = (pending.trigger, why, pending.at)
                return Ducked(timestamp=now, session_id=sid, gain=measured, cause_session_id=pending.trigger,
                              why=why, measured_db=_db(measured))
            if not (audible_before and audible_after):
                return None
            change = _db(after / before)
            if change > -s.unexplained_db:
                return None
            why = unexplained(self._sessions, pending, sid, change)
            self._ducked[sid] = (pending.trigger, why, pending.at)
            return Ducked(timestamp=now, session_id=sid, gain=after / before, cause_session_id=pending.trigger,
                          why=why, measured_db=change)
        held = self._ducked.get(sid)
        if held is None or held[0] != pending.trigger or not audible_after:
            return None
        del self._ducked[sid]
        released = held[1].release() if held[1] is not None else None
        restored = after / before if audible_before else math.inf
        return Unducked(timestamp=now, session_id=sid, gain=1.0, cause_session_id=pending.trigger, why=released,
                        measured_db=_db(restored))

    def _verdict_from_server(self, pending: _Pending, sid: str, predicted: Predicted | None,
                             step: tuple[ServerGain, ServerGain], now: float) -> Event | None:
        """The verdict when the meter gives nothing to compare but the server's gain on the session changed."""
        old, new = step
        ratio = new.gain / old.gain if old.gain > 0 else math.inf
        if pending.started:
            if ratio >= 1.0:
                return None
            if predicted is not None:
                rule = predicted.why
            elif _db(ratio) <= -self.settings.unexplained_db:
                rule = unexplained(self._sessions, pending, sid, _db(ratio))
            else:
                return None
            self._ducked[sid] = (pending.trigger, rule, pending.at)
            return Ducked(timestamp=now, session_id=sid, gain=ratio, cause_session_id=pending.trigger,
                          why=measured_by(rule, step, on_meter=False), measured_db=_db(ratio))
        held = self._ducked.get(sid)
        if held is None or held[0] != pending.trigger or ratio <= 1.0:
            return None
        del self._ducked[sid]
        why = measured_by(held[1].release(), step, on_meter=False) if held[1] is not None else None
        return Unducked(timestamp=now, session_id=sid, gain=1.0, cause_session_id=pending.trigger, why=why,
                        measured_db=_db(ratio))

    def _ducked_by_another(self, sid: str, pending: _Pending) -> bool:
        """Whether ``sid`` holds a duck of another trigger that came within the span ``pending`` measures (two
        streams that start together, a call and its speech engine's probe: the drop is the one reported)."""
        held = self._ducked.get(sid)
        s = self.settings
        return (held is not None and held[0] != pending.trigger
                and pending.at - s.guard - s.before <= held[2] <= pending.at + s.settle + 2 * s.after)

    def _level(self, track: _Session, start: float, end: float) -> float | None:
        """The window's level: a high percentile of its peaks; None when the meter has no peak in it."""
        peaks = sorted(p for t, p in track.peaks if start <= t <= end)
        if len(peaks) < 3:
            return None
        return peaks[min(len(peaks) - 1, int(self.settings.percentile * len(peaks)))]


def unexplained(sessions: Mapping[str, Session], pending: _Pending, sid: str, change_db: float) -> Reason:
    """The reason of a step down that no loaded rule predicts."""
    trigger = sessions.get(pending.trigger)
    who = trigger.label if trigger is not None else pending.trigger
    victim = sessions[sid].label
    text = (f"{victim}'s level fell {abs(change_db):.1f} dB when {who} started, and no rule of the policy in "
            "force predicts it (another program, a device volume, or a policy audiolab cannot see)")
    return Reason(policy="measured", kind="unexplained", text=text + ".", rule={
        "trigger_session": pending.trigger, "measured_db": round(change_db, 2)}, label="unexplained")


def _db(gain: float) -> float:
    if gain <= 0:
        return -math.inf
    return 20 * math.log10(gain)


def _with_state(session: Session, state: SessionState) -> Session:
    return replace(session, state=state)
