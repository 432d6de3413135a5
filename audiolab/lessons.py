"""Helpers for the lessons in ``notebooks/``: a readable event log that keeps its place across cells, and a
checker for the exercises.

    log = EventLog(lab)            # subscribes now: every event from here on
    ...                            # play tones, change volumes
    await log.show()               # prints the events since the last show(), each focus event with its why
    check(guess, lab.session(sid).volume)   # an exercise: compares a guess with what the service did

The answers of the exercises are never written in the notebooks: ``check`` compares the guess with a value the
simulated service has just produced.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ._format import _details
from .audio._child_base import die_with_parent
from .events import Event
from .model import MeterFrame

if TYPE_CHECKING:
    from .lab import Lab

__all__ = ("EventLog", "check", "describe", "lesson_trace", "level", "private_pulseaudio")

FOCUS_KINDS = frozenset({
    "InterruptEvent", "FocusDenied", "Ducked", "Unducked", "DuckNotification", "UnduckNotification",
    "SessionDeactivated",
})


def describe(event: Event, labels: dict[str, str] | None = None, t0: float = 0.0) -> str:
    """One event as a line (time since ``t0``, kind, session, what changed, a measured duck's dB), and for a
    focus event its reason on a second line. ``labels`` maps session ids to shorter names."""
    names = labels or {}
    who = names.get(event.session_id, event.session_id)
    details = _details(event)
    for sid, name in names.items():
        details = details.replace(sid, name)
    measured = getattr(event, "measured_db", None)
    if measured is not None:
        details += f", measured {measured:.1f} dB"
    line = f"{event.timestamp - t0:7.2f}s  {event.kind:<19} {who:<22} {details}".rstrip()
    why = getattr(event, "why", None)
    return line if why is None else f"{line}\n{'':10}why: {why.text}"


async def level(lab: Lab, session_id: str, amplitude: float = 1.0) -> float:
    """The session's meter peak now (after its volume and focus gain), divided by ``amplitude`` (the tone's
    own peak): 1.0 = untouched, 0.2 = ducked to 20 %, 0.0 = silent. Advances the Lab's clock by a few 10 ms
    meter periods (on a virtual clock, virtual ones)."""
    if isinstance(amplitude, bool) or not isinstance(amplitude, (int, float)) or not amplitude > 0:
        raise ValueError(f"amplitude must be a number > 0, got {amplitude!r}")
    got: list[MeterFrame] = []
    async with lab.meters(rate=100) as frames, anyio.create_task_group() as tasks:

        async def take() -> None:
            got.append(await frames.receive())
            tasks.cancel_scope.cancel()

        tasks.start_soon(take)
        # Time moves only while someone sleeps on a virtual clock: step it until the first frame arrives.
        for _ in range(100):
            await lab.sleep(0.01)
        tasks.cancel_scope.cancel()
    if not got:
        raise RuntimeError("no meter frame arrived within 1 s")
    return got[0].peaks.get(session_id, 0.0) / amplitude


class EventLog:
    """Every event of ``lab`` from its creation on; :meth:`show` prints those not shown yet.

    ``kinds`` keeps only those event kinds (e.g. ``{"Ducked", "Unducked"}``); ``focus_only=True`` keeps the
    focus events (interrupts, denials, ducks, Windows duck notifications, HarmonyOS deactivations)."""

    def __init__(self, lab: Lab, *, kinds: set[str] | None = None, focus_only: bool = False) -> None:
        if kinds is not None and focus_only:
            raise ValueError("give kinds= or focus_only=True, not both")
        self._lab = lab
        self._subscription = lab.events()
        self.t0 = 0.0 if lab.clock.virtual else lab.clock.now()
        """Where the printed times start: the log's creation on a real clock, 0 on a virtual one."""
        self._kinds = FOCUS_KINDS if focus_only else (frozenset(kinds) if kinds is not None else None)
        self.events: list[Event] = []
        self._shown = 0
        """Every event taken so far (also those a ``kinds`` filter hides from :meth:`show`)."""
        self.labels: dict[str, str] = {s.id: s.label for s in lab.snapshot()}
        """Short names for session ids, used by :meth:`show`; filled from each new session's label."""

    def take(self) -> list[Event]:
        """The events that arrived since the last call (without waiting), also kept in :attr:`events`; a
        later :meth:`show` still prints them."""
        new: list[Event] = []
        while True:
            try:
                event = self._subscription.receive_nowait()
            except anyio.WouldBlock:
                break
            session = getattr(event, "session", None)
            if session is not None and event.session_id not in self.labels:
                taken = set(self.labels.values())
                self.labels[event.session_id] = session.label if session.label not in taken else session.id
            new.append(event)
        self.events += new
        return new

    async def show(self, title: str | None = None) -> None:
        """Let the service deliver what is due, then print the new events (after ``title``); they are kept
        in :attr:`events` (a notebook cell shows nothing more than the printed lines)."""
        await self._lab.sleep(0)
        self.take()
        new = [e for e in self.events[self._shown:] if self._kinds is None or e.kind in self._kinds]
        self._shown = len(self.events)
        if title is not None:
            print(f"-- {title}")
        for event in new:
            print(describe(event, self.labels, self.t0))
        if not new:
            print("   (no events)")

    def skip(self) -> None:
        """Take the new events without printing them: the next :meth:`show` starts after them."""
        self.take()
        self._shown = len(self.events)

    def count(self, kind: str, session_id: str | None = None) -> int:
        """How many events of ``kind`` (for ``session_id``, when given) were taken so far."""
        return sum(e.kind == kind and (session_id is None or e.session_id == session_id) for e in self.events)

    def close(self) -> None:
        """Stop receiving events."""
        self._subscription.close()


def check(guess: Any, answer: Any, *, tolerance: float = 0.01) -> None:
    """An exercise's check: prints whether ``guess`` matches ``answer`` (numbers within ``tolerance``; text
    ignoring case). A guess left at ``None`` prints the answer instead."""
    if guess is None:
        print(f"no guess yet: the service says {answer!r}. Set your guess before running the cell next time.")
        return
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        right = str(guess).strip().lower() == str(answer).strip().lower()
    elif isinstance(guess, (int, float)) and not isinstance(guess, bool):
        right = math.isclose(float(guess), float(answer), abs_tol=tolerance)
    else:
        raise TypeError(f"the answer is a number; give a number as your guess, not {guess!r}")
    print(f"right: {answer!r}" if right else f"not quite: you said {guess!r}, the service says {answer!r}")


@contextlib.asynccontextmanager
async def private_pulseaudio(*modules: str) -> AsyncIterator[str | None]:
    """A PulseAudio daemon of this process's own (a null sink, a socket in a temporary folder, the given
    modules, e.g. ``"module-role-ducking trigger_roles=phone ducking_roles=music volume=30%"``); yields its
    server string for ``audiolab.open("pulse", server=...)``, or None when PulseAudio is not installed or
    would not start (a lesson then replays a recorded trace). The daemon is killed on exit."""
    binary = shutil.which("pulseaudio")
    if binary is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="audiolab-lesson-pa-") as root:
        socket = Path(root) / "native"
        env = {**os.environ, "XDG_RUNTIME_DIR": root, "HOME": root, "PULSE_RUNTIME_PATH": root}
        cmd = [binary, "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--system=no",
               "--log-target=stderr", "--log-level=error",
               "-L", "module-null-sink sink_name=lesson_sink rate=48000 channels=2",
               "-L", f"module-native-protocol-unix auth-anonymous=1 socket={socket}"]
        for module in modules:
            cmd += ["-L", module]
        # Killed with this process even when it dies without cleaning up (a kernel restart, a crash): a
        # daemon in a session of its own would outlive it.
        process = subprocess.Popen(  # noqa: ASYNC220 - on this thread: the death signal follows the thread that forks
            cmd, env=env, cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=functools.partial(die_with_parent, os.getpid()))
        try:
            for _ in range(200):  # the socket appears once the daemon listens: up to 10 s
                if socket.exists() or process.poll() is not None:
                    break
                await anyio.sleep(0.05)
            yield f"unix:{socket}" if socket.exists() and process.poll() is None else None
        finally:
            with anyio.CancelScope(shield=True):
                process.terminate()
                try:
                    await anyio.to_thread.run_sync(process.wait, 5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    await anyio.to_thread.run_sync(process.wait)


def lesson_trace(name: str = "pulseaudio-phone-ducks-music") -> Path:
    """A trace shipped in ``datasets/traces/`` (recorded from a real server with ``audiolab record``)."""
    from ._data import data_dir

    path = data_dir("traces") / f"{name}.jsonl"
    if not path.is_file():
        shipped = sorted(p.stem for p in data_dir("traces").glob("*.jsonl"))
        raise FileNotFoundError(f"no shipped trace {name!r}; the shipped traces are {', '.join(shipped)}")
    return path
