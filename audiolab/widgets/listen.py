"""Listen: the simulated service's mix, streamed to the browser views of a widget and played by Web Audio.

The dashboard's "listen" toggle (the user gesture browsers ask for before they play sound) starts it. Then:

- every render device of the simulated service gets a tap beside its sink (a WAV file or a sound card keeps
  working); each 10 ms block of every device is downmixed to mono and summed, so the class hears the speakers
  and the headset together, as after the gains, the ducks and the 5 ms ramps of the service's mixer;
- every :data:`CHUNK_SECONDS` the kernel sends one custom message ``{"kind": "listen_chunk", "seq", "t0",
  "rate"}`` with ONE binary buffer: 16-bit little-endian PCM at :data:`LISTEN_RATE` (48 kHz halved: 48 kB/s);
  ``t0`` is the wall-clock time (``time.time()``) of the chunk's first sample in the mix, for the latency figure;
- the browser plays the chunks from an adaptive jitter buffer (an AudioWorklet; a ScriptProcessor where the
  page is not a secure context and has no AudioWorklet; the rules are in listen.js): it keeps 20 ms to spare
  over how late the chunks of the last 20 s came, but for their worst stall; it fades out on an underrun and
  resumes from the newest audio, so a late chunk is a short gap, never a click; a surplus is spliced out, 20 ms
  a second, where the audio matches itself (whole periods of a tone), with a 5 ms crossfade. Each listening
  view reports every second what it buffered, its underruns and its latency (``listen_ack``); a view silent
  for :data:`ACK_TIMEOUT_SECONDS` (a closed page) stops counting as a listener.

Nothing is tapped and nothing is sent while no view listens. Listening needs the simulated service on real
time: a Lab on a virtual clock computes its audio faster (or slower) than real time, so there is nothing to
hear live; the toggle says so and stays off (open the Lab with the default ``clock="real"`` to listen). Other
backends play on their own server: the toggle says so too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._by_fields import by_fields
from .._exceptions import AudiolabError
from ._assets import asset
from ._loop import KernelLoop, log

if TYPE_CHECKING:
    import numpy as np

    from ..lab import Lab

LISTEN_RATE = 24000
"""Sample rate of the PCM sent to the browser (the service's 48 kHz, halved)."""
CHUNK_SECONDS = 0.02
"""Audio per message: 2 blocks of the service's 10 ms."""
ACK_TIMEOUT_SECONDS = 5.0
"""A listening view that reported nothing for this long (its page closed) stops counting."""

__all__ = ("LISTEN_RATE", "Listen", "ListenStatistics", "listen_css", "listen_esm")


def listen_esm() -> str:
    """The front end's listen toggle and player: an ES module fragment that defines ``audiolabListen``,
    meant to be placed before a widget's own module (``_esm = listen_esm() + own_module``)."""
    return asset("listen.js")


def listen_css() -> str:
    """The listen toggle's style, to append to a widget's own ``_css``."""
    return asset("listen.css")


@by_fields
@dataclass(frozen=True, eq=False, repr=False)
class ListenStatistics:
    """What listening cost and how it played, as the kernel knows it."""

    listening_views: int
    """Views listening now."""
    chunks_sent: int
    bytes_sent: int
    """PCM bytes sent (the message headers, a few dozen bytes each, not counted)."""
    seconds_sent: float
    """Audio sent, in seconds."""
    underruns: int = 0
    """Underruns the views reported (the jitter buffer ran dry), summed over the views."""
    dropped: int = 0
    """Times a view's buffer skipped audio: a surplus spliced out, or a stall's backlog skipped on resuming."""
    latency_ms: float | None = None
    """The newest latency a view reported: from the mix block's time in the kernel to the moment the
    browser's audio output plays it (``AudioContext.getOutputTimestamp``)."""
    buffered_ms: float | None = None
    """What the newest reporting view had buffered."""


class _Tap:
    """Stands in one device's sink slot: passes each block to the sink that was there, and to the listener."""

    def __init__(self, listener: Listen, device_id: str, previous: object | None) -> None:
        self.listener = listener
        self.device_id = device_id
        self.previous = previous

    def write(self, block: np.ndarray) -> None:
        if self.previous is not None:
            self.previous.write(block)  # type: ignore[attr-defined]
        self.listener._feed(self, block)

    def close(self) -> None:
        if self.previous is not None:
            self.previous.close()  # type: ignore[attr-defined]
        self.listener._tap_gone(self)


class Listen:
    """Streams the simulated service's mix to the views of ``widget`` while any of them listens.

    ``command(content)`` takes the view's messages (``listen`` with ``on`` and ``view``, ``listen_ack``); the
    widget routes every message whose kind starts with ``listen`` here. Runs on the kernel's loop thread."""

    def __init__(self, widget: Any, lab: Lab, kernel: KernelLoop) -> None:
        self._widget = widget
        self._lab = lab
        self._kernel = kernel
        self._views: dict[str, float] = {}  # view id -> when it last reported
        self._reports: dict[str, dict[str, Any]] = {}
        self._taps: list[_Tap] = []
        self._engine: Any = None
        self._pass_t: float | None = None
        self._pass: Any = None
        self._fed = 0
        self._pending: list[Any] = []
        self._pending_frames = 0
        self._chunk_t0 = 0.0
        self._wall_offset = 0.0
        self._factor = 2
        self._seq = 0
        self._chunks = self._bytes = 0
        self._frames_sent = 0
        self._last_prune = 0.0

    # --- public ---------------------------------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        """Whether some view listens now (the mix is tapped and sent)."""
        return bool(self._views)

    def statistics(self) -> ListenStatistics:
        reports = list(self._reports.values())
        newest = max(reports, key=lambda r: r["at"], default=None)
        return ListenStatistics(
            listening_views=len(self._views),
            chunks_sent=self._chunks,
            bytes_sent=self._bytes,
            seconds_sent=self._frames_sent / LISTEN_RATE,
            underruns=sum(int(r.get("underruns", 0)) for r in reports),
            dropped=sum(int(r.get("dropped", 0)) for r in reports),
            latency_ms=None if newest is None else newest.get("latency_ms"),
            buffered_ms=None if newest is None else newest.get("buffered_ms"),
        )

    def refusal(self) -> str | None:
        """Why this Lab cannot be listened to, or None when it can."""
        lab = self._lab
        if lab.backend_name != "sim":
            return (f"listen plays the simulated service's mix; the {lab.backend_name!r} backend's sessions play "
                    "on their own audio server, not in this kernel")
        if lab.clock.virtual:
            return ("this Lab runs on a virtual clock: its audio is computed faster than real time, so there is "
                    "nothing to hear live (open it with clock='real', the default, to listen)")
        if lab.sim.engine.audio.sample_rate % LISTEN_RATE:
            return f"listen needs a sample rate that is a multiple of {LISTEN_RATE} Hz"
        return None

    def command(self, content: dict[str, Any]) -> None:
        """A message from a view: ``{"kind": "listen", "on": bool, "view": id}`` or ``listen_ack``."""
        kind = content.get("kind")
        view = content.get("view")
        if not isinstance(view, str) or not view:
            log.warning("listen: a message without a view id: %r", content)
            return
        if kind == "listen":
            if content.get("on") is True:
                self._start(view)
            else:
                self._stop(view)
        elif kind == "listen_ack":
            if view in self._views:
                self._views[view] = time.monotonic()
                report = {key: content[key] for key in ("underruns", "dropped", "latency_ms", "buffered_ms")
                          if isinstance(content.get(key), (int, float)) and not isinstance(content[key], bool)}
                self._reports[view] = {**report, "at": time.monotonic()}
        else:
            log.warning("listen: unknown message from the browser: %r", content)

    def close(self) -> None:
        """Stop listening for every view and remove the taps."""
        self._views.clear()
        self._untap()

    # --- on and off -------------------------------------------------------------------------------------------

    def _status(self, view: str, on: bool, error: str | None = None) -> None:
        self._widget.send({"kind": "listen_status", "view": view, "on": on, "error": error})

    def _start(self, view: str) -> None:
        try:
            refusal = self.refusal()
        except AudiolabError as exc:  # the Lab closed
            refusal = f"the Lab is closed: {exc}"
        if refusal is not None:
            self._status(view, False, refusal)
            return
        self._views[view] = time.monotonic()
        if not self._taps:
            self._tap()
        self._status(view, True)

    def _stop(self, view: str) -> None:
        self._views.pop(view, None)
        if not self._views:
            self._untap()
        self._status(view, False)

    def _tap(self) -> None:
        engine = self._lab.sim.engine
        audio = engine.audio
        self._engine = engine
        self._factor = audio.sample_rate // LISTEN_RATE
        self._wall_offset = time.time() - time.monotonic()  # the real clock is time.monotonic()
        self._pass_t = None
        self._pending, self._pending_frames = [], 0
        for device in engine.devices:
            if device.flow.value != "render":
                continue
            tap = _Tap(self, device.id, None)
            tap.previous = audio.set_sink(device.id, tap)
            self._taps.append(tap)

    def _untap(self) -> None:
        taps, self._taps = self._taps, []
        engine, self._engine = self._engine, None
        if engine is None:
            return
        for tap in taps:
            try:
                there = engine.audio.set_sink(tap.device_id, tap.previous)
            except KeyError:
                continue  # the device went away
            if there is not tap:  # someone replaced our tap since: leave theirs in place
                engine.audio.set_sink(tap.device_id, there)

    def _untap_if_idle(self) -> None:
        if not self._views:
            self._untap()

    def _tap_gone(self, tap: _Tap) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    # --- the mix ------------------------------------------------------------------------------------------------

    def _feed(self, tap: _Tap, block: np.ndarray) -> None:
        """One device's block of the render pass ending at the engine's ``now``; sends a chunk when full."""
        t = self._engine.now
        mono = block.mean(axis=1, dtype="float32")
        if t != self._pass_t:
            self._pass_t, self._pass, self._fed = t, mono, 1
        else:
            self._pass = self._pass + mono
            self._fed += 1
        if self._fed == len(self._taps):
            self._add(self._pass, t - len(mono) / self._engine.audio.sample_rate)

    def _add(self, mono: np.ndarray, t_start: float) -> None:
        if not self._pending:
            self._chunk_t0 = t_start
        self._pending.append(mono)
        self._pending_frames += len(mono)
        if self._pending_frames >= CHUNK_SECONDS * self._engine.audio.sample_rate:
            self._send_chunk()

    def _send_chunk(self) -> None:
        import numpy as np

        samples = np.concatenate(self._pending)
        self._pending, self._pending_frames = [], 0
        f = self._factor
        if f > 1:
            samples = samples[: len(samples) // f * f].reshape(-1, f).mean(axis=1)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
        self._seq += 1
        self._widget.send({"kind": "listen_chunk", "seq": self._seq, "t0": self._chunk_t0 + self._wall_offset,
                           "rate": LISTEN_RATE}, buffers=[pcm])
        self._chunks += 1
        self._bytes += len(pcm)
        self._frames_sent += len(pcm) // 2
        now = time.monotonic()
        if now - self._last_prune > 1.0:
            self._last_prune = now
            self._prune(now)

    def _prune(self, now: float) -> None:
        for view, seen in list(self._views.items()):
            if now - seen > ACK_TIMEOUT_SECONDS:
                log.info("listen: view %s stopped reporting; it no longer counts as listening", view)
                del self._views[view]
        if not self._views:
            self._kernel.loop.call_soon(self._untap_if_idle)  # after the render pass that called us
