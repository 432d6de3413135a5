"""Which PipeWire daemon a pipewire-pulse server belongs to: the socket the native meter connects to.

pipewire-pulse is a client of one PipeWire daemon, found from its own environment the way every libpipewire
client finds it (``PIPEWIRE_REMOTE``, else ``pipewire-0`` in ``PIPEWIRE_RUNTIME_DIR``, ``XDG_RUNTIME_DIR`` or
``USERPROFILE``). For a local server (a ``unix:`` address) audiolab asks the kernel who listens on that socket
(``SO_PEERCRED``) and reads that process's environment; that is the daemon pipewire-pulse uses, even when it
is not the one audiolab's own environment points at (a private test server, another user's session run as
root). When that cannot be learned (a TCP address, a process of another user), the native meter uses
libpipewire's default, which is right on an ordinary desktop.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Mapping

DEFAULT_NAME = "pipewire-0"
_RUNTIME_VARIABLES = ("PIPEWIRE_RUNTIME_DIR", "XDG_RUNTIME_DIR", "USERPROFILE")


def remote_of_environment(environment: Mapping[str, str]) -> str | None:
    """The PipeWire socket a libpipewire client with ``environment`` connects to (a path, or a bare name
    when the environment names no runtime directory)."""
    name = environment.get("PIPEWIRE_REMOTE") or DEFAULT_NAME
    if name.startswith("/"):
        return name
    for variable in _RUNTIME_VARIABLES:
        if environment.get(variable):
            return os.path.join(environment[variable], name)
    return None


def socket_path(address: str | None) -> str | None:
    """The filesystem path of a pulse server string's local socket (``unix:/path`` or ``/path``), else None."""
    if not address:
        return None
    for part in address.split():  # a server string may list several addresses: the first local one
        part = part.removeprefix("{").split("}")[-1]
        if part.startswith("unix:"):
            return part[len("unix:"):]
        if part.startswith("/"):
            return part
    return None


def listener_pid(path: str) -> int | None:
    """The pid of the process listening on the unix socket ``path`` (SO_PEERCRED), None when unknown."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(path)
            credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    pid = struct.unpack("3i", credentials)[0]
    return pid if pid > 0 else None


def process_environment(pid: int) -> dict[str, str] | None:
    """The environment ``pid`` was started with, None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as file:
            raw = file.read()
    except OSError:
        return None
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def pipewire_remote(pulse_address: str | None) -> str | None:
    """The PipeWire socket of the pipewire-pulse answering at ``pulse_address`` (None: the default socket's
    server), or None when it cannot be learned (libpipewire's default is then used)."""
    path = socket_path(pulse_address) or _default_pulse_socket()
    pid = listener_pid(path) if path else None
    environment = process_environment(pid) if pid is not None else None
    return remote_of_environment(environment) if environment is not None else None


def _default_pulse_socket() -> str | None:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(runtime, "pulse", "native") if runtime else None
