"""Private audio servers for tests: a PulseAudio daemon, or PipeWire + WirePlumber + pipewire-pulse.

Each server runs in its own temporary runtime directory (XDG_RUNTIME_DIR, HOME, config dirs, a private D-Bus
session bus for PipeWire) with one null sink, so nothing touches the developer's desktop audio. Every process
started here (daemons, ``pacat`` players) runs in its own process group and is killed at teardown; teardown
then checks that none of them is left.

A missing binary is a test failure naming the Debian package, never a skip: these tests run in CI.

    with pulseaudio_server() as server:           # or pipewire_server()
        player = server.play_tone(0.5, role="music", client_name="music-player")
        server.pactl("set-sink-input-volume", "3", "50%")
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_prctl = ctypes.CDLL(None, use_errno=True).prctl
PR_SET_PDEATHSIG = 1


def _die_with_the_tests() -> None:
    """preexec_fn of every daemon: SIGKILL when the process that started it dies, even by an abort or a
    SIGKILL, so a crashed test run leaves no server behind. Daemons are started from the main thread (the
    signal follows the thread that forked)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

DEFAULT_SINK = "audiolab_sink"
RATE = 48000

_PACKAGES = {
    "pulseaudio": "pulseaudio",
    "pactl": "pulseaudio-utils",
    "pacat": "pulseaudio-utils",
    "pipewire": "pipewire-bin",
    "pw-play": "pipewire-bin",
    "pipewire-pulse": "pipewire-pulse",
    "wireplumber": "wireplumber",
    "dbus-daemon": "dbus",
}


class ServerError(RuntimeError):
    """A private test server could not be started or stopped cleanly."""


def require_binary(name: str) -> str:
    """The path of ``name``; fails (never skips) with the Debian package to install when it is missing."""
    path = shutil.which(name)
    if path is None:
        package = _PACKAGES.get(name, name)
        raise ServerError(f"{name!r} is not installed: install the Debian package {package!r} (apt-get install {package})")
    return path


@dataclass
class Player:
    """A ``pacat`` playing a tone; ``stop()`` kills it (also done at server teardown)."""

    process: subprocess.Popen[bytes]
    client_name: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        _kill_group(self.process)


@dataclass
class AudioServer:
    """A running private server, reachable at ``address`` (a PulseAudio-protocol server string)."""

    kind: str  # "pulseaudio" or "pipewire"
    address: str
    root: Path
    env: dict[str, str]
    sink: str = DEFAULT_SINK
    _daemons: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _players: list[Player] = field(default_factory=list)
    _tones: dict[tuple[float, float, int], Path] = field(default_factory=dict)

    # --- clients --------------------------------------------------------------------------------------

    def pactl(self, *args: str, check: bool = True, timeout: float = 10.0) -> str:
        """Run ``pactl`` against this server and return its stdout."""
        done = subprocess.run(
            [require_binary("pactl"), *args], env=self.env, capture_output=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise ServerError(f"pactl {' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout.decode(errors="replace")

    def answers(self) -> bool:
        try:
            done = subprocess.run(
                [require_binary("pactl"), "info"], env=self.env, capture_output=True, timeout=2.0, check=False
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    def tone_file(self, amplitude: float, seconds: float = 60.0, channels: int = 2) -> Path:
        """A raw float32le file holding a 440 Hz sine of peak ``amplitude`` (cached per server)."""
        key = (amplitude, seconds, channels)
        if key not in self._tones:
            t = np.arange(int(RATE * seconds)) / RATE
            mono = (amplitude * np.sin(2 * np.pi * 440.0 * t)).astype("<f4")
            path = self.root / f"tone-{amplitude}-{seconds}-{channels}.raw"
            path.write_bytes(np.repeat(mono[:, None], channels, axis=1).tobytes())
            self._tones[key] = path
        return self._tones[key]

    def play_tone(
        self,
        amplitude: float = 0.5,
        *,
        client_name: str = "audiolab-test-tone",
        role: str | None = "music",
        latency_msec: int | None = 20,
        seconds: float = 60.0,
        channels: int = 2,
        sink: str | None = None,
        properties: dict[str, str] | None = None,
    ) -> Player:
        """Start a ``pacat`` playing a sine. ``latency_msec=None`` gives pacat's default (a 2 s buffer)."""
        cmd = [
            require_binary("pacat"),
            "--playback",
            "--raw",
            "--format=float32le",
            f"--rate={RATE}",
            f"--channels={channels}",
            f"--client-name={client_name}",
            f"--stream-name={client_name}",
            f"--device={sink or self.sink}",
        ]
        if latency_msec is not None:
            cmd.append(f"--latency-msec={latency_msec}")
        if role:
            cmd.append(f"--property=media.role={role}")
        for key, value in (properties or {}).items():
            cmd.append(f"--property={key}={value}")
        cmd.append(str(self.tone_file(amplitude, seconds, channels)))
        process = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_the_tests,
        )
        player = Player(process, client_name)
        self._players.append(player)
        return player

    def record(self, *, client_name: str = "audiolab-test-recorder", device: str | None = None) -> Player:
        """Start a ``pacat --record`` of ``device`` (default: this server's sink monitor) into nothing."""
        cmd = [
            require_binary("pacat"), "--record", "--raw", "--format=float32le", f"--rate={RATE}", "--channels=2",
            f"--client-name={client_name}", f"--stream-name={client_name}", "--latency-msec=20",
            f"--device={device or self.sink + '.monitor'}",
        ]
        process = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_the_tests,
        )
        player = Player(process, client_name)
        self._players.append(player)
        return player

    def sink_inputs(self) -> list[dict[str, str]]:
        """``pactl list sink-inputs`` parsed into dicts (index, client, sink, corked, volume, properties...)."""
        return _parse_pactl_list(self.pactl("list", "sink-inputs"))

    def wait_sink_input(self, client_name: str, timeout: float = 5.0, count: int = 1) -> list[dict[str, str]]:
        """Wait until ``count`` sink-inputs of the client named ``client_name`` exist; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [s for s in self.sink_inputs() if s.get("application.name") == client_name]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise ServerError(f"no sink-input of {client_name!r} appeared within {timeout} s")
            time.sleep(0.02)

    def usage(self, daemon: str | None = None) -> ProcessUsage:
        """CPU time and RSS now of the daemon answering the pulse protocol (pulseaudio or pipewire-pulse), or of
        the one named (``"pipewire"``)."""
        names = {"pulseaudio": ["pulseaudio"], "pipewire": ["dbus-daemon", "pipewire", "wireplumber", "pipewire-pulse"]}
        index = -1 if daemon is None else names[self.kind].index(daemon)
        return process_usage(self._daemons[index].pid)

    # --- lifecycle ------------------------------------------------------------------------------------

    def kill(self) -> None:
        """Kill the server's daemons abruptly (SIGKILL), as a crash would; players are left to the teardown."""
        for process in reversed(self._daemons):
            _kill_group(process, sig=signal.SIGKILL)

    def stop(self) -> None:
        """Kill every player and daemon and check that none of them is left."""
        for player in self._players:
            player.stop()
        for process in reversed(self._daemons):
            _kill_group(process)
        left = [p.pid for p in [*(pl.process for pl in self._players), *self._daemons] if _group_alive(p.pid)]
        if left:
            raise ServerError(f"processes left after teardown: {left}")


@dataclass(frozen=True)
class ProcessUsage:
    """A process's CPU time (user + system, seconds) and resident memory (MB) at one moment."""

    cpu_seconds: float
    rss_mb: float
    at: float


def process_usage(pid: int) -> ProcessUsage:
    """CPU time and RSS of ``pid`` from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/status") as f:
        rss_kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    return ProcessUsage(cpu, rss_kb / 1024, time.monotonic())


def _kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)
    # Anything the process forked into its group goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _parse_pactl_list(text: str) -> list[dict[str, str]]:
    items: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not raw.startswith(("\t", " ")) and "#" in line:
            current = {"index": line.rsplit("#", 1)[1]}
            items.append(current)
            continue
        if current is None or not line:
            continue
        if " = " in line and raw.startswith("\t\t"):
            key, _, value = line.partition(" = ")
            current[key] = value.strip('"')
        elif ":" in line:
            key, _, value = line.partition(":")
            current.setdefault(key.strip().lower(), value.strip())
    return items


def _private_root(prefix: str) -> Path:
    # Unix socket paths are limited to 108 bytes: keep the root short.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def _base_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "PIPEWIRE_", "DBUS_", "XDG_"))}
    for name in ("run", "home", "config", "state", "cache"):
        (root / name).mkdir(mode=0o700, exist_ok=True)
    env.update(
        HOME=str(root / "home"),
        XDG_RUNTIME_DIR=str(root / "run"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_STATE_HOME=str(root / "state"),
        XDG_CACHE_HOME=str(root / "cache"),
        PULSE_RUNTIME_PATH=str(root / "run" / "pulse"),
        PULSE_STATE_PATH=str(root / "state" / "pulse"),
    )
    return env


def _wait_answering(server: AudioServer, what: str, log: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not server.answers():
        for process in server._daemons:
            if process.poll() is not None:
                raise ServerError(f"{what} exited with {process.returncode}; log:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise ServerError(f"{what} did not answer within {timeout} s; log:\n{_tail(log)}")
        time.sleep(0.05)



def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def pulseaudio_server(
    *,
    modules: Sequence[str] = (),
    sinks: Sequence[str] = (DEFAULT_SINK,),
    socket: str | Path | None = None,
    keep_root: bool = False,
) -> Iterator[AudioServer]:
    """A private PulseAudio daemon with null sinks ``sinks`` and extra ``modules`` (``"module-role-cork"``,
    ``"module-role-ducking trigger_roles=phone ducking_roles=music volume=30%"``). ``socket`` puts its
    socket at a chosen path (a restarted server at the same address)."""
    binary = require_binary("pulseaudio")
    require_binary("pactl")
    root = _private_root("al-pa-")
    env = _base_env(root)
    socket = Path(socket) if socket is not None else root / "native"
    address = f"unix:{socket}"
    env["PULSE_SERVER"] = address
    cmd = [
        binary,
        "-n",
        "--daemonize=no",
        "--exit-idle-time=-1",
        "--disallow-exit",
        "--disable-shm=no",
        "--log-target=stderr",
        "--log-level=warning",
        "--use-pid-file=no",
        "--system=no",
    ]
    for sink in sinks:
        cmd += ["-L", f"module-null-sink sink_name={sink} format=float32le rate={RATE} channels=2"]
    cmd += ["-L", f"module-native-protocol-unix auth-anonymous=1 socket={socket}"]
    for module in modules:
        cmd += ["-L", module]
    log = root / "pulseaudio.log"
    with log.open("wb") as log_file:
        daemon = subprocess.Popen(
            cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_the_tests, cwd=root,
        )
    server = AudioServer("pulseaudio", address, root, env, sinks[0] if sinks else DEFAULT_SINK, [daemon])
    try:
        _wait_answering(server, "pulseaudio", log)
        yield server
    finally:
        try:
            server.stop()
        finally:
            if not keep_root:
                shutil.rmtree(root, ignore_errors=True)


_NULL_SINK_CONF = """
context.objects = [
    {{ factory = adapter
        args = {{
            factory.name     = support.null-audio-sink
            node.name        = "{name}"
            node.description = "audiolab test sink"
            media.class      = Audio/Sink
            object.linger    = true
            audio.rate       = {rate}
            audio.channels   = 2
            audio.position   = [ FL FR ]
            priority.session = 2000
        }}
    }}
]
"""

_PULSE_CONF = """
pulse.properties = {{
    server.address = [ {{ address = "unix:{socket}" max-clients = 256 }} ]
}}
pulse.cmd = [ ]
"""


@contextlib.contextmanager
def pipewire_server(
    *, sinks: Sequence[str] = (DEFAULT_SINK,), keep_root: bool = False, wireplumber_files: Mapping[str, str] | None = None
) -> Iterator[AudioServer]:
    """A private PipeWire + WirePlumber + pipewire-pulse on a private D-Bus session bus, with null sinks.
    ``wireplumber_files`` maps paths under the private ``XDG_CONFIG_HOME/wireplumber/`` to their text (e.g.
    ``policy.lua.d/50-endpoints-config.lua``): WirePlumber reads them before its system-wide files of the same name."""
    binaries = {name: require_binary(name) for name in ("dbus-daemon", "pipewire", "wireplumber", "pipewire-pulse")}
    require_binary("pactl")
    root = _private_root("al-pw-")
    env = _base_env(root)
    socket = root / "native"
    address = f"unix:{socket}"
    conf_dir = root / "config" / "pipewire"
    (conf_dir / "pipewire.conf.d").mkdir(parents=True)
    (conf_dir / "pipewire-pulse.conf.d").mkdir(parents=True)
    (conf_dir / "pipewire.conf.d" / "50-audiolab-sinks.conf").write_text(
        "\n".join(_NULL_SINK_CONF.format(name=sink, rate=RATE) for sink in sinks)
    )
    (conf_dir / "pipewire-pulse.conf.d" / "50-audiolab-socket.conf").write_text(_PULSE_CONF.format(socket=socket))
    for relative, text in (wireplumber_files or {}).items():
        path = root / "config" / "wireplumber" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    env.update(PIPEWIRE_RUNTIME_DIR=str(root / "run"), PULSE_SERVER=address, PIPEWIRE_LOG_SYSTEMD="false")
    log = root / "pipewire.log"
    daemons: list[subprocess.Popen[bytes]] = []
    server = AudioServer("pipewire", address, root, env, sinks[0] if sinks else DEFAULT_SINK, daemons)
    try:
        with log.open("wb") as log_file:
            bus = subprocess.Popen(
                [binaries["dbus-daemon"], "--session", "--nofork", "--nopidfile", f"--address=unix:path={root}/bus",
                 "--print-address=1"],
                env=env, stdout=subprocess.PIPE, stderr=log_file, start_new_session=True, preexec_fn=_die_with_the_tests,
            )
            daemons.append(bus)
            assert bus.stdout is not None
            bus_address = bus.stdout.readline().decode().strip()
            bus.stdout.close()
            if not bus_address:
                raise ServerError(f"dbus-daemon gave no address; log:\n{_tail(log)}")
            env["DBUS_SESSION_BUS_ADDRESS"] = bus_address
            for name in ("pipewire", "wireplumber", "pipewire-pulse"):
                daemons.append(
                    subprocess.Popen(
                        [binaries[name]], env=env, stdout=log_file, stderr=subprocess.STDOUT,
                        start_new_session=True, preexec_fn=_die_with_the_tests, cwd=root,
                    )
                )
                if name == "pipewire":
                    _wait_for_path(root / "run" / "pipewire-0", "pipewire", log, daemons)
        _wait_answering(server, "pipewire-pulse", log)
        _wait_for_sink(server, sinks[0] if sinks else None, log)
        yield server
    except BaseException:
        # The daemons' own words are the first thing to read when a test fails with a server around.
        codes = {" ".join(map(str, d.args))[-30:]: d.poll() for d in daemons}  # type: ignore[arg-type]
        print(f"--- PipeWire daemons {codes}; their log ({log}) ---\n{_tail(log, 60)}", file=sys.stderr)
        raise
    finally:
        try:
            server.stop()
        finally:
            if not keep_root:
                shutil.rmtree(root, ignore_errors=True)


WIREPLUMBER_ENDPOINTS = Path("/usr/share/wireplumber/policy.lua.d/50-endpoints-config.lua")
"""Debian's WirePlumber 0.4 role-based endpoints policy, shipped commented out."""


@contextlib.contextmanager
def wireplumber_endpoints_server() -> Iterator[AudioServer]:
    """A private PipeWire whose WirePlumber 0.4 runs Debian's endpoints policy with its comment markers removed,
    once its ``control.endpoint.*`` sinks are there."""
    require_binary("wireplumber")
    if not WIREPLUMBER_ENDPOINTS.exists():
        raise ServerError(f"{WIREPLUMBER_ENDPOINTS} is missing: install Debian's wireplumber 0.4 "
                          "(tools/install-system-deps.sh)")
    enabled = WIREPLUMBER_ENDPOINTS.read_text().replace("--[[", "").replace("]]--", "")
    with pipewire_server(wireplumber_files={"policy.lua.d/50-endpoints-config.lua": enabled}) as server:
        deadline = time.monotonic() + 10
        while "control.endpoint.multimedia" not in server.pactl("list", "short", "sinks"):
            if time.monotonic() > deadline:
                raise ServerError("WirePlumber's role endpoints never appeared")
            time.sleep(0.05)
        yield server


def _wait_for_path(path: Path, what: str, log: Path, daemons: list[subprocess.Popen[bytes]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if any(p.poll() is not None for p in daemons) or time.monotonic() > deadline:
            raise ServerError(f"{what} did not come up; log:\n{_tail(log)}")
        time.sleep(0.02)


def _wait_for_sink(server: AudioServer, sink: str | None, log: Path, timeout: float = 10.0) -> None:
    """WirePlumber needs a moment to pick the default sink; streams before that stay unlinked."""
    if sink is None:
        return
    deadline = time.monotonic() + timeout
    while True:
        if sink in server.pactl("list", "short", "sinks") and server.pactl("get-default-sink").strip() == sink:
            return
        if time.monotonic() > deadline:
            raise ServerError(f"sink {sink!r} did not become the default within {timeout} s; log:\n{_tail(log)}")
        time.sleep(0.05)


# --- a scriptable client: several streams from one client, corked or not ------------------------------------

class StreamClient:
    """One PulseAudio client (its own connection) holding silent playback streams, for grouping tests.

    ``pacat`` makes one client per stream; this makes one client with as many streams as asked, each with its
    own properties, optionally started corked. Use ``async with StreamClient(server.address, "app") as c``.
    """

    def __init__(self, address: str, name: str, properties: dict[str, str] | None = None) -> None:
        import pulsectl_asyncio

        self.address = address
        self.name = name
        self._pulse = pulsectl_asyncio.PulseAsync(name, server=address)
        self._streams: list[object] = []

    async def __aenter__(self) -> StreamClient:
        await self._pulse.connect(timeout=3)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def open_stream(self, sink: str, *, role: str | None = None, corked: bool = False, channels: int = 2,
                    name: str = "stream") -> object:
        from pulsectl import _pulsectl as c

        lib = _libpulse()
        spec = c.PA_SAMPLE_SPEC(format=c.PA_SAMPLE_FLOAT32NE, rate=RATE, channels=channels)
        text = f'media.name="{name}"' + (f' media.role="{role}"' if role else "")
        props = c.pa.proplist_from_string(text)
        stream = c.pa.stream_new_with_proplist(self._pulse._ctx, name, spec, None, props)
        c.pa.proplist_free(props)
        flags = 0x0001 if corked else 0  # PA_STREAM_START_CORKED
        if lib.pa_stream_connect_playback(stream, sink.encode(), None, flags, None, None) < 0:
            raise ServerError("pa_stream_connect_playback failed")
        self._streams.append(stream)
        return stream

    def cork(self, stream: object, corked: bool) -> None:
        op = _libpulse().pa_stream_cork(stream, int(corked), None, None)
        if op:
            _libpulse().pa_operation_unref(op)

    def close_stream(self, stream: object) -> None:
        from pulsectl import _pulsectl as c

        self._streams.remove(stream)
        with contextlib.suppress(c.pa.CallError):
            c.pa.stream_disconnect(stream)
        c.pa.stream_unref(stream)

    def close(self) -> None:
        for stream in list(self._streams):
            self.close_stream(stream)
        self._pulse.close()


_LIB = None


def _libpulse():  # type: ignore[no-untyped-def]
    global _LIB
    if _LIB is None:
        import ctypes
        import ctypes.util

        lib = ctypes.CDLL(ctypes.util.find_library("pulse") or "libpulse.so.0")
        lib.pa_stream_connect_playback.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int,
                                                   ctypes.c_void_p, ctypes.c_void_p]
        lib.pa_stream_connect_playback.restype = ctypes.c_int
        lib.pa_stream_cork.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        lib.pa_stream_cork.restype = ctypes.c_void_p
        lib.pa_operation_unref.argtypes = [ctypes.c_void_p]
        _LIB = lib
    return _LIB
