"""Applying a scenario's actions to a run, one ``match`` arm per kind, and the sentence naming each."""

from __future__ import annotations

from typing import Any

import anyio

from .._exceptions import FocusDeniedError, PolicyError, ScenarioError, SessionNotFound
from ..events import SessionCreated
from ._run import Player, Run, drain
from .actions import (
    Action,
    ActivateAction,
    DeactivateAction,
    OptOutAction,
    PauseAction,
    PlayerAction,
    ResumeAction,
    SetPolicyAction,
    StartAction,
    StopAction,
    VolumeAction,
)
from .narrate import role_word


async def apply(run: Run, action: Action, events: Any) -> None:
    """Do ``action`` on the run's Lab, then take the events it caused."""
    lab = run.lab
    run.row(action.at, f"do:{action.do}", action.subject or run.policy, None, action_text(action))
    match action:
        case StartAction():
            await _start(run, action, events)
        case StopAction():
            player = _player(run, action)
            if player.playback is not None and not player.playback.finished:
                player.app_stopped_at = action.at
                await player.playback.stop()
        case PauseAction() | ResumeAction():
            await _pause_or_resume(run, _player(run, action), action)
        case ActivateAction(app=app, mode=mode):
            await lab.session_manager(app).activate(mode)
        case DeactivateAction(app=app):
            try:
                await lab.session_manager(app).deactivate()
            except SessionNotFound as exc:  # not activated (or timed out already): HarmonyOS's 6800301
                run.row(action.at, "error", app, None, str(exc))
        case VolumeAction(volume=volume, mute=mute):
            player = _player(run, action)
            if player.session_id is not None and not player.denied:
                if volume is not None:
                    await lab.set_volume(player.session_id, volume)
                if mute is not None:
                    await lab.set_mute(player.session_id, mute)
        case SetPolicyAction():
            await _set_policy(run, action)
        case OptOutAction(value=value):
            player = _player(run, action)
            if player.session_id is not None and not player.denied:
                run.engine.set_ducking_opt_out(player.session_id, value)
    await anyio.lowlevel.checkpoint()
    run.take(events)


def _player(run: Run, action: PlayerAction) -> Player:
    """The player ``action`` acts on; a ScenarioError naming its line when none of that id has started in
    this run (a scenario built in Python, or run under a policy its file was not checked against)."""
    player = run.players.get(action.id)
    if player is None:
        raise _error(run, action, action.not_started(run.policy, run.scenario.players().get(action.id)))
    return player


def _error(run: Run, action: Action, message: str) -> ScenarioError:
    return ScenarioError(f"[[action]] #{action.index + 1}: {message}", path=run.scenario.path, line=action.line)


async def _pause_or_resume(run: Run, player: Player, action: Action) -> None:
    if player.playback is None or player.playback.finished:
        return
    pause = isinstance(action, PauseAction)
    player.app_paused = pause
    if pause:
        player.app_paused_at.append((action.at, run.scenario.duration))
    elif player.app_paused_at:
        player.app_paused_at[-1] = (player.app_paused_at[-1][0], action.at)
    try:
        await (player.playback.pause() if pause else player.playback.resume())
    except FocusDeniedError:
        player.denied = True


async def _set_policy(run: Run, action: SetPolicyAction) -> None:
    current = run.lab.sim.policy
    name = action.use or current.name
    settings = dict(action.settings) if action.use else {**current.settings, **action.settings}
    try:
        await run.lab.set_policy(name, **settings)
    except PolicyError as exc:  # under a policy the file was not checked against (run --policy)
        raise _error(run, action, f"under {run.policy}: {exc}") from None


def _tone(action: StartAction) -> Any:
    from ..tones import beeps, ring, sawtooth, sine, square, triangle  # noqa: PLC0415

    match action.tone:
        case "ring":
            return ring(sine(action.frequency, action.amplitude))
        case "beeps":
            return beeps(sine(action.frequency, action.amplitude), on=0.2, off=0.2)
    builders = {"sine": sine, "square": square, "triangle": triangle, "sawtooth": sawtooth}
    return builders[action.tone](action.frequency, action.amplitude)


async def _start(run: Run, action: StartAction, events: Any) -> None:
    if action.id in run.players:
        raise _error(run, action, f"player id {action.id!r} is started twice; give each start its own id")
    player = Player(action)
    run.players[player.id] = player
    tone = _tone(action)
    try:
        player.playback = await run.lab.play(tone, role=action.role, app=action.app, display_name=player.id,
                                             device=action.device, duration=action.duration, focus=action.focus)
    except FocusDeniedError:
        player.denied = True
        seen = drain(events)
        # the denied session existed for an instant: its SessionCreated event names it
        created = [e.session_id for e in seen if isinstance(e, SessionCreated) and e.session.app == action.app]
        run.note(player, created[-1] if created else None)
        for event in seen:
            run.event(event)
        return
    run.note(player, player.playback.session_id)
    run.requests[player.id] = run.engine.focus_request(player.playback.stream_id)
    session = run.lab.session(player.session_id)  # a persisted volume applies from the start
    player.levels.append((action.at, 0.0 if session.muted else session.volume))
    if run.tone_ended not in run.engine.stream_listeners:
        run.engine.stream_listeners.append(run.tone_ended)


def action_text(action: Action) -> str:
    """One line saying what the action does, for the transitions table."""
    match action:
        case StartAction():
            length = f" for {action.duration:g} s" if action.duration else ""
            return (f"{action.id} ({role_word(action.role)}) starts a {action.frequency:g} Hz {action.tone}{length} "
                    f"as app {action.app!r}")
        case StopAction(id=pid) | PauseAction(id=pid) | ResumeAction(id=pid):
            return f"{pid}'s app {action.do}s it"
        case ActivateAction(app=app, mode=mode):
            return f"{app} activates its audio session ({mode.value})"
        case DeactivateAction(app=app):
            return f"{app} deactivates its audio session"
        case VolumeAction(id=pid, volume=volume, mute=mute):
            parts = [f"volume {volume:.2f}"] if volume is not None else []
            parts += [("muted" if mute else "unmuted")] if mute is not None else []
            return f"the user sets {pid}: {', '.join(parts)}"
        case SetPolicyAction(use=use, settings=settings):
            listed = ", ".join(f"{k}={v}" for k, v in settings.items())
            return f"policy -> {use or '(same)'}{' ' + listed if listed else ''}"
        case OptOutAction(id=pid, value=value):
            return f"{pid} {'opts out of' if value else 'opts back into'} ducking (takes effect on its next start)"
    return action.do
