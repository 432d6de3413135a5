"""The simulated service's audio path: tones of running streams, mixed per render device in fixed blocks.

Per block and device: every running tone stream is rendered (one :class:`ToneBank` per device, batched), the
streams of one session are summed, and the :class:`DeviceMixer` applies each session's gain with short ramps:
``volume x channel volume x (0 if muted) x focus gain``. The focus gain moves linearly over the policy's
fade (e.g. Windows' 1 s duck) from block to block. Peaks are taken after the gain, per session and per
device, and held (maximum) until read. Each device's mix may go to a sink (a WAV file, a sound card).

Blocks nobody listens to are skipped, not rendered: with no sink and no meter subscription a block only moves
the tones on (phase, fades, durations and cadences, so a tone ends in the same block as it would have) and the
mixer is settled where its ramps would have ended. *Probing* (:meth:`SimAudio.start_probing`) renders only the
blocks someone asked for (:meth:`SimAudio.want_block`) and the two after the one in which anything changes
(what plays or how loud: a stream starting or stopping, a volume, a focus fade's start and end), and hands each one's peaks to
``on_probe``: between those blocks the gains are constant or move linearly, so they describe the whole run.

NumPy and the tone bank load with the first tone or sink: a service nobody plays into (``audiolab sessions``)
starts without them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ...model import Device, Flow

if TYPE_CHECKING:
    import numpy as np

    from ...audio.bank import ToneBank
    from ...audio.mixer import DeviceMixer
    from ...audio.synth import Tone


@dataclass
class _ToneStream:
    """A stream's tone and how far it has played."""

    session_id: str
    device_id: str
    tone: Tone
    played_frames: int = 0
    running: bool = False
    ends_at: float | None = None  # when a running tone with a duration will end


@dataclass
class _Fade:
    """A gain moving linearly from ``start`` to ``target`` over a duck's or unduck's fade."""

    start: float
    target: float
    t0: float
    t1: float

    def at(self, t: float) -> float:
        if t >= self.t1 or self.t1 <= self.t0:
            return self.target
        if t <= self.t0:
            return self.start
        return self.start + (self.target - self.start) * (t - self.t0) / (self.t1 - self.t0)


class _Device:
    def __init__(self, device: Device, sample_rate: int, block_frames: int) -> None:
        self.device = device
        self.sample_rate = sample_rate
        self.block_frames = block_frames
        self._bank: ToneBank | None = None
        self._mixer: DeviceMixer | None = None
        self.sink: object | None = None
        self.peak = 0.0

    @property
    def bank(self) -> ToneBank:
        if self._bank is None:
            from ...audio.bank import ToneBank

            self._bank = ToneBank(self.sample_rate, channels=self.device.channels)
        return self._bank

    @property
    def mixer(self) -> DeviceMixer:
        if self._mixer is None:
            from ...audio.mixer import DeviceMixer

            self._mixer = DeviceMixer(self.sample_rate, self.block_frames, self.device.channels)
        return self._mixer

    @property
    def playing(self) -> bool:
        """Whether a tone runs here (without creating the bank to find out)."""
        return self._bank is not None and len(self._bank) > 0


class SimAudio:
    """Audio of the simulated service. ``on_finished(stream_id, t)`` is called when a tone ends by itself."""

    def __init__(
        self,
        devices: tuple[Device, ...],
        *,
        sample_rate: int = 48000,
        block_frames: int = 480,
        on_finished: Callable[[str, float], None],
        on_probe: Callable[[float, dict[str, tuple[float, ...]], dict[str, float]], None] | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self.block_frames = block_frames
        self.block_seconds = block_frames / sample_rate
        self._on_finished = on_finished
        self._devices = {d.id: _Device(d, sample_rate, block_frames) for d in devices if d.flow is Flow.RENDER}
        self._streams: dict[str, _ToneStream] = {}
        self._base_gain: dict[str, tuple[float, ...]] = {}
        self._fades: dict[str, _Fade] = {}
        self._peaks: dict[str, np.ndarray] = {}
        self._on_probe = on_probe
        self.blocks_rendered = 0
        self.blocks_skipped = 0
        self.metering = False
        """Whether a meter subscription reads peaks (then every block is rendered)."""
        self._probing = False
        self._around_changes = False
        self._wanted: list[int] = []  # sorted block indices a probe asked for

    # --- what plays ------------------------------------------------------------------------------------------

    def add_stream(self, stream_id: str, session_id: str, device_id: str, tone: Tone) -> None:
        if device_id not in self._devices:
            raise ValueError(f"tones play on render devices; {device_id!r} is not one")
        self._streams[stream_id] = _ToneStream(session_id, device_id, tone)

    def has_tone(self, stream_id: str) -> bool:
        return stream_id in self._streams

    def set_running(self, stream_id: str, running: bool, now: float) -> None:
        stream = self._streams.get(stream_id)
        if stream is None or stream.running == running:
            return
        bank = self._devices[stream.device_id].bank
        if running:
            tone = stream.tone
            if tone.duration is not None:
                remaining = max(tone.duration - stream.played_frames / self.sample_rate, 1.0 / self.sample_rate)
                if stream.played_frames:
                    tone = replace(tone, duration=remaining, fade_in=0.0, fade_out=min(tone.fade_out, remaining))
                stream.ends_at = now + remaining
            bank.add(stream_id, tone)
        else:
            stream.played_frames += bank.frames_played(stream_id)
            stream.ends_at = None
            bank.remove(stream_id)
        stream.running = running
        self._changed(now)

    def earliest_end(self) -> float | None:
        """When the first running tone with a duration ends, if any."""
        return min((s.ends_at for s in self._streams.values() if s.ends_at is not None), default=None)

    def remove_stream(self, stream_id: str) -> None:
        self.set_running(stream_id, False, 0.0)
        self._streams.pop(stream_id, None)

    def remove_device(self, device_id: str) -> None:
        """The device is gone: its streams must be removed first; its sink (if any) is closed."""
        device = self._devices.pop(device_id, None)
        if device is not None and device.sink is not None:
            device.sink.close()  # type: ignore[attr-defined]

    def set_amplitude(self, stream_id: str, amplitude: float) -> None:
        stream = self._streams[stream_id]
        stream.tone = stream.tone.with_amplitude(amplitude)
        if stream.running:
            self._devices[stream.device_id].bank.set_amplitude(stream_id, amplitude)

    # --- gains -----------------------------------------------------------------------------------------------

    def set_session_gain(self, session_id: str, gains: tuple[float, ...], now: float | None = None) -> None:
        """volume x channel volume x (0 if muted), per channel."""
        self._base_gain[session_id] = tuple(float(g) for g in gains)
        if now is not None:
            self._changed(now)

    def set_focus_gain(self, session_id: str, target: float, fade_seconds: float, now: float) -> None:
        current = self.focus_gain(session_id, now)
        fade = _Fade(current, float(target), now, now + max(0.0, fade_seconds))
        self._fades[session_id] = fade
        self._changed(fade.t0)
        self._changed(fade.t1)

    def focus_gain(self, session_id: str, t: float) -> float:
        fade = self._fades.get(session_id)
        return 1.0 if fade is None else fade.at(t)

    def forget_session(self, session_id: str) -> None:
        self._base_gain.pop(session_id, None)
        self._fades.pop(session_id, None)

    # --- sinks and meters -------------------------------------------------------------------------------------

    def set_sink(self, device_id: str, sink: object | None) -> object | None:
        """Send ``device_id``'s mix to ``sink`` (anything with ``write(block)``); returns the previous one."""
        device = self._devices[device_id]
        previous, device.sink = device.sink, sink
        return previous

    def sinks(self) -> list[object]:
        return [d.sink for d in self._devices.values() if d.sink is not None]

    def take_peaks(self) -> tuple[dict[str, tuple[float, ...]], dict[str, float]]:
        peaks = {sid: tuple(float(v) for v in values) for sid, values in self._peaks.items()}
        devices = {d: dev.peak for d, dev in self._devices.items()}
        self._peaks = {}
        for dev in self._devices.values():
            dev.peak = 0.0
        return peaks, devices

    # --- what must be rendered ------------------------------------------------------------------------------

    def start_probing(self, around_changes: bool = True) -> None:
        """From now on render the blocks asked for (and, with ``around_changes``, those from each change),
        and report each to ``on_probe`` (see the module's docstring)."""
        self._probing = True
        self._around_changes = around_changes

    def want_block(self, index: int) -> None:
        """Render (and report to ``on_probe``) the block that ends at ``index * block_seconds``."""
        if index not in self._wanted:
            bisect.insort(self._wanted, index)

    def _changed(self, t: float) -> None:
        if self._around_changes:
            # The block the change falls in only ramps between two values its neighbours show. The next one
            # is steady again; one more, as a gain series leaves out the two blocks after a start.
            i = math.floor(t / self.block_seconds + 1e-6)
            self.want_block(i + 2)
            self.want_block(i + 3)

    def must_render(self, index: int) -> bool:
        """Whether block ``index`` is listened to: by a sink, a meter, or a probe."""
        if self.metering or (self._wanted and self._wanted[0] <= index and index in self._wanted):
            return True
        return any(d.sink is not None for d in self._devices.values()) or not self._can_skip()

    def _can_skip(self) -> bool:
        # The mixer's ramps end within one block: after a skipped block it stands exactly at its targets.
        return all(d.mixer.ramp_frames <= self.block_frames for d in self._devices.values() if d.playing)

    def skippable(self, first: int, last: int) -> int:
        """How many blocks from ``first`` (at most up to ``last``) can be skipped: up to the next wanted
        block, and up to the block in which a tone ends (included: it ends when it is skipped)."""
        for device in self._devices.values():
            if device.playing:
                left = device.bank.frames_to_first_end()
                if left is not None:
                    ends_in = first - 1 + max(1, -(-left // self.block_frames))
                    last = min(last, ends_in)
                    if self._around_changes and ends_in > first:
                        self.want_block(ends_in - 1)  # a tone's last full block: its gain series ends there
        while self._wanted and self._wanted[0] < first:
            self._wanted.pop(0)
        if self._wanted:
            last = min(last, self._wanted[0] - 1)
        return max(0, last - first + 1)

    # --- rendering ----------------------------------------------------------------------------------------------

    def has_work(self) -> bool:
        """Whether time moves in blocks: a tone is running or a device has a sink listening."""
        return any(d.playing or d.sink is not None for d in self._devices.values())

    def skip_blocks(self, count: int, t_end: float) -> None:
        """Move every tone on ``count`` blocks, the last ending at ``t_end``, without rendering them."""
        self.blocks_skipped += count
        for device in self._devices.values():
            if not device.playing:
                continue
            device.bank.skip(count * self.block_frames)
            session_ids = tuple(dict.fromkeys(self._streams[k].session_id for k in device.bank.keys))  # type: ignore[index]
            device.mixer.settle(session_ids, self._gains(session_ids, device.device.channels, t_end))
            self._finish(device, t_end)

    def render_block(self, t_end: float) -> None:
        """Render the block that ends at ``t_end`` on every device."""
        import numpy as np

        self.blocks_rendered += 1
        index = round(t_end / self.block_seconds)
        probe = self._probing and index in self._wanted
        block_peaks: dict[str, tuple[float, ...]] = {}
        device_peaks: dict[str, float] = {}
        for device in self._devices.values():
            if not device.playing and device.sink is None:
                continue
            keys, blocks = device.bank.render(self.block_frames)
            session_ids, session_blocks = self._by_session(keys, blocks)
            gains = self._gains(session_ids, device.device.channels, t_end)
            result = device.mixer.mix(session_ids, session_blocks, gains)
            for i, key in enumerate(result.session_ids):
                sid = str(key)
                held = self._peaks.get(sid)
                self._peaks[sid] = result.peaks[i] if held is None else np.maximum(held, result.peaks[i])
                if probe:
                    block_peaks[sid] = tuple(float(v) for v in result.peaks[i])
            device.peak = max(device.peak, result.device_peak)
            device_peaks[device.device.id] = result.device_peak
            if device.sink is not None:
                device.sink.write(result.block)  # type: ignore[attr-defined]
            self._finish(device, t_end)
        if probe and self._on_probe is not None:
            self._wanted.remove(index)
            self._on_probe(t_end, block_peaks, device_peaks)

    def _finish(self, device: _Device, t_end: float) -> None:
        for stream_id in device.bank.pop_finished():
            stream = self._streams[str(stream_id)]
            stream.running = False
            stream.played_frames = 0
            stream.ends_at = None
            self._on_finished(str(stream_id), t_end)

    def _by_session(self, keys: tuple[Hashable, ...], blocks: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
        import numpy as np

        owners = [self._streams[k].session_id for k in keys]  # type: ignore[index]
        unique = tuple(dict.fromkeys(owners))
        if len(unique) == len(owners):
            return unique, blocks
        summed = np.zeros((len(unique), *blocks.shape[1:]), dtype=np.float32)
        index = {sid: i for i, sid in enumerate(unique)}
        np.add.at(summed, [index[o] for o in owners], blocks)
        return unique, summed

    def _gains(self, session_ids: tuple[str, ...], channels: int, t: float) -> np.ndarray:
        import numpy as np

        gains = np.ones((len(session_ids), channels))
        for i, sid in enumerate(session_ids):
            base = self._base_gain.get(sid)
            if base is not None:
                gains[i, :] = base[:channels]
            fade = self._fades.get(sid)
            if fade is not None:
                gains[i, :] *= fade.at(t)
        return gains
