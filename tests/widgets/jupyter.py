"""A private JupyterLab (and the environment for kernels) for notebook and browser tests and benchmarks.

Everything lives under one temporary directory: Jupyter config, data (with a kernelspec pointing at this
interpreter), runtime files, IPython dir and JupyterLab settings, so nothing from the host leaks in. The server
runs on a free localhost port with a random token and is stopped with every kernel it started.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "artifacts"
KERNEL_NAME = "python3"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def private_jupyter_env(root: Path) -> dict[str, str]:
    """Environment variables that keep Jupyter, IPython and JupyterLab inside ``root``; writes a kernelspec
    named ``python3`` that runs this interpreter (the project venv), so no other Python is ever picked."""
    dirs = {name: root / name for name in ("config", "data", "runtime", "ipython", "lab-settings", "lab-workspaces")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    spec = dirs["data"] / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "audiolab venv", "language": "python",
    }), encoding="utf-8")
    # JupyterLab user settings: start the notebook's kernel without asking, no news pop-up, and render every
    # cell (no windowing), so that outputs far down the notebook are in the page.
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True,
                                                                      "windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                           "checkForUpdates": False},
    }
    for name, value in settings.items():
        path = dirs["lab-settings"] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "IPYTHON"))}
    env.update({
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTER_PATH": str(dirs["data"]),
        "JUPYTER_CONFIG_PATH": str(dirs["config"]),
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(dirs["ipython"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["lab-settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["lab-workspaces"]),
        "PYTHONWARNINGS": "ignore::DeprecationWarning",  # the kernel's own stderr, not the tests' warnings
    })
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_notebooks(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for nb in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(nb, dest / nb.name)
    return dest


@dataclass
class LabServer:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def page(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None


@contextmanager
def jupyter_lab(root: Path, timeout: float = 60.0) -> Iterator[LabServer]:
    """Start ``jupyter lab`` on the notebooks copied under ``root``; stop it and every kernel on exit."""
    env = private_jupyter_env(root / "jupyter")
    notebooks = copy_notebooks(root / "notebooks")
    token, port = secrets.token_hex(16), free_port()
    log = root / "jupyterlab.log"
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter), "lab", "--no-browser", f"--IdentityProvider.token={token}", f"--ServerApp.port={port}",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={notebooks}", "--ServerApp.port_retries=0",
           "--ServerApp.terminals_enabled=False", "--LabApp.extension_manager=readonly",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI runners often run as root
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=notebooks,
                                   start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                server.api("/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer in {timeout} s:\n{log.read_text()[-3000:]}") from exc
                time.sleep(0.2)
        yield server
    finally:
        stop_server(server)


def stop_server(server: LabServer) -> None:
    """Shut the server down (it shuts its kernels down), then make sure no process of it is left."""
    try:
        family = [psutil.Process(server.process.pid), *psutil.Process(server.process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    if server.process.poll() is None:
        try:
            server.api("/api/shutdown", method="POST")
            server.process.wait(timeout=15)
        except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
            pass
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=5)
    for proc in family:
        try:
            proc.wait(timeout=5)
        except psutil.TimeoutExpired:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


@contextmanager
def chromium_page(width: int = 1500, height: int = 1000, timeout_ms: float = 60_000) -> Iterator[Any]:
    """A page of Debian's Chromium, headless, at ``width`` x ``height``; the browser closes at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()


def require_chromium() -> str:
    """Debian's Chromium, or a clear failure (browser tests never skip silently)."""
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        raise RuntimeError(f"browser tests need Debian's Chromium at {CHROMIUM}: run `make system-deps` "
                           "(or `apt-get install chromium`) first")
    return CHROMIUM
