"""Test what users install: build the sdist and the wheel once, `twine check` them, install the wheel into fresh
virtualenvs (no extras, `[pulse]` only, `[widgets]` only) and run the commands and README examples each allows.

    python tools/check_wheel.py            # `make wheel-check`, part of `make test`

Every dependency is fetched once into a wheelhouse (artifacts/wheelhouse, kept between runs); the three
installs then read only that folder (`--no-index`). The venvs are made without pip of their own (this
interpreter's pip installs into them with `--python`), and everything runs from a temporary folder, outside
the source tree, so that `import audiolab` can only find the installed wheel. Prints one line per check and
the time each stage took; exits 1 if any check failed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
DIST = ARTIFACTS / "dist"
WHEELHOUSE = ARTIFACTS / "wheelhouse"
EXTRAS = ("", "pulse", "widgets")


class Checks:
    """Runs commands, records each as passed or failed, and says so on one line."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def run(self, name: str, argv: Sequence[str], *, cwd: Path, ok: Callable[[subprocess.CompletedProcess[str]],
            bool] = lambda r: r.returncode == 0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=600,
                                stdin=subprocess.DEVNULL, env=None if env is None else {**os.environ, **env})
        good = ok(result) and "Traceback" not in result.stdout + result.stderr
        if good:
            self.passed += 1
            print(f"  ok    {name}", flush=True)
        else:
            self.failed.append(name)
            print(f"  FAIL  {name} (exit {result.returncode})\n{textwrap.indent(result.stdout[-2000:], '    | ')}"
                  f"{textwrap.indent(result.stderr[-3000:], '    ! ')}", flush=True)
        return result


def step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def done(started: float) -> None:
    print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)


def build(checks: Checks) -> Path:
    """The sdist, then the wheel built from it (so a file missing from the sdist shows); returns the wheel."""
    shutil.rmtree(DIST, ignore_errors=True)
    checks.run("build the sdist and the wheel from it", [sys.executable, "-m", "build", "--no-isolation",
                                                          "--outdir", str(DIST), str(ROOT)], cwd=ROOT)
    checks.run("twine check --strict", [sys.executable, "-m", "twine", "check", "--strict",
                                        *map(str, sorted(DIST.iterdir()))], cwd=ROOT)
    wheels = sorted(DIST.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel in {DIST}, found {[w.name for w in wheels]}")
    return wheels[0]


def check_contents(checks: Checks, wheel: Path, tmp: Path) -> None:
    """The wheel carries the data, py.typed, the widgets' front-end files and the licence; the sdist carries what
    builds and tests it."""
    import tarfile
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = ["audiolab/py.typed", "audiolab/_datasets/focus/harmonyos.json",
              "audiolab/_datasets/scenarios/music-call.toml",
              "audiolab/_datasets/traces/pulseaudio-phone-ducks-music.jsonl"]
    # The widgets' front ends (the dashboard's is several files that dashboard.py concatenates).
    wanted += sorted(p.relative_to(ROOT).as_posix() for pattern in ("*.js", "*.css")
                     for p in (ROOT / "audiolab" / "widgets").glob(pattern))
    missing = [n for n in wanted if n not in names]
    if not any(n.endswith("licenses/LICENSE") for n in names):
        missing.append("LICENSE")
    sdist = next(DIST.glob("*.tar.gz"))
    members = {m.split("/", 1)[-1] for m in tarfile.open(sdist).getnames()}
    missing += [n for n in ("LICENSE", "CHANGELOG.md", "datasets/README.md", "tests/conftest.py") if n not in members]
    report = tmp / "contents.json"
    report.write_text(json.dumps(missing), encoding="utf-8")
    checks.run("wheel and sdist contents (data, py.typed, widget assets, LICENSE, CHANGELOG, tests)",
               [sys.executable, "-c", f"import json,sys; m=json.load(open({str(report)!r})); print(m); "
                                      "sys.exit(1 if m else 0)"], cwd=tmp)


def fill_wheelhouse(checks: Checks, wheel: Path, tmp: Path) -> None:
    """Every dependency of every extra tried, fetched once (pip skips files already in the wheelhouse)."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    checks.run("fetch the dependencies once into the wheelhouse",
               [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", str(WHEELHOUSE),
                "--find-links", str(WHEELHOUSE), f"{wheel}[{','.join(e for e in EXTRAS if e)}]"], cwd=tmp)


def readme_examples() -> tuple[list[str], str]:
    """The README's Python blocks and its scenario (TOML) block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S), re.findall(r"```toml\n(.*?)```", text, flags=re.S)[0]


def as_script(block: str) -> str:
    """A README block as a script: one using top-level ``await`` runs inside an asyncio ``main``."""
    if "anyio.run(" in block:
        return block
    header = "import anyio, audiolab\nfrom audiolab import Role\nfrom audiolab.tones import sine\n"
    return f"{header}async def main():\n{textwrap.indent(block, '    ')}\n\nanyio.run(main)\n"


def check_venv(checks: Checks, wheel: Path, extra: str, tmp: Path) -> None:
    label = f"[{extra}]" if extra else "(no extras)"
    venv = tmp / f"venv-{extra or 'core'}"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python, audiolab = venv / "bin" / "python", venv / "bin" / "audiolab"
    requirement = f"{wheel}[{extra}]" if extra else str(wheel)
    checks.run(f"{label} install from the wheelhouse only",
               [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-index",
                "--find-links", str(WHEELHOUSE), requirement], cwd=tmp)
    work = tmp / f"work-{extra or 'core'}"
    work.mkdir()
    checks.run(f"{label} audiolab --version", [str(audiolab), "--version"], cwd=work,
               ok=lambda r: r.returncode == 0 and r.stdout.startswith("audiolab-focus "))
    checks.run(f"{label} audiolab sessions --backend sim --json", [str(audiolab), "sessions", "--backend", "sim",
               "--json"], cwd=work, ok=lambda r: r.returncode == 0 and json.loads(r.stdout)[0]["role"] == "system")
    checks.run(f"{label} audiolab sessions (auto, no server: the simulated service)", [str(audiolab), "sessions"],
               cwd=work, env={"PULSE_SERVER": f"unix:{tmp}/no-server"},
               ok=lambda r: r.returncode == 0 and "backend: sim" in r.stdout)
    checks.run(f"{label} audiolab scenario list", [str(audiolab), "scenario", "list"], cwd=work,
               ok=lambda r: r.returncode == 0 and "music-call" in r.stdout and len(r.stdout.splitlines()) >= 13)
    checks.run(f"{label} audiolab scenario run music-call", [str(audiolab), "scenario", "run", "music-call"],
               cwd=work, ok=lambda r: r.returncode == 0 and "expectations passed" in r.stdout)
    checks.run(f"{label} audiolab scenario compare music-navigation",
               [str(audiolab), "scenario", "compare", "music-navigation"], cwd=work)
    checks.run(f"{label} audiolab demo", [str(audiolab), "demo", "--png", "demo.png"], cwd=work,
               ok=lambda r: r.returncode == 0 and "Final sessions:" in r.stdout
               and (("timeline written" in r.stdout) == (extra == "widgets")))
    checks.run(f"{label} audiolab tone 440 --wav", [str(audiolab), "tone", "440", "--seconds", "0.2", "--wav",
                                                    "a4.wav"], cwd=work)
    checks.run(f"{label} audiolab explain --backend sim", [str(audiolab), "explain", "--backend", "sim"], cwd=work,
               ok=lambda r: r.returncode == 0 and "focus policy" in r.stdout)
    checks.run(f"{label} audiolab record, then replay", [str(audiolab), "record", "run.jsonl", "--backend", "sim",
               "--duration", "0.5"], cwd=work)
    checks.run(f"{label} audiolab replay --speed 100", [str(audiolab), "replay", "run.jsonl", "--speed", "100"],
               cwd=work)
    checks.run(f"{label} audiolab replay --png: a picture, or one line naming the widgets extra",
               [str(audiolab), "replay", "run.jsonl", "--png", "run.png"], cwd=work,
               ok=lambda r: r.returncode == 0 if extra == "widgets" else (
                   r.returncode == 2 and "audiolab-focus[widgets]" in r.stderr and not (work / "run.png").exists()))
    blocks, scenario = readme_examples()
    for number, block in enumerate(blocks, start=1):
        if "audiolab.widgets" in block and extra != "widgets":
            continue
        script = work / f"readme_{number}.py"
        script.write_text(as_script(block), encoding="utf-8")
        checks.run(f"{label} README example {number}", [str(python), str(script)], cwd=work)
    (work / "readme.toml").write_text(scenario, encoding="utf-8")
    checks.run(f"{label} README scenario", [str(audiolab), "scenario", "run", "readme.toml"], cwd=work)
    if extra == "pulse":
        checks.run(f"{label} the pulse backend imports (sniffio declared)",
                   [str(python), "-c", "import audiolab.backends.pulse, audiolab.backends"], cwd=work)
        # No server at that address (this machine's own server, if any, is left alone): one line, exit 2.
        checks.run(f"{label} audiolab sessions --backend pulse with no server: one line", [str(audiolab),
                   "sessions", "--backend", "pulse"], cwd=work, env={"PULSE_SERVER": f"unix:{tmp}/no-server"},
                   ok=lambda r: r.returncode == 2 and len(r.stderr.splitlines()) == 1)
    if extra == "widgets":
        checks.run(f"{label} the widgets import", [str(python), "-c", "from audiolab.widgets import "
                   "SessionDashboard, FocusTimeline, TeachingPanel, start_lab"], cwd=work)


def main() -> int:
    checks = Checks()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="audiolab-wheel-") as name:
        tmp = Path(name)
        t = step("build")
        wheel = build(checks)
        check_contents(checks, wheel, tmp)
        done(t)
        t = step("wheelhouse")
        fill_wheelhouse(checks, wheel, tmp)
        done(t)
        for extra in EXTRAS:
            t = step(f"fresh venv: audiolab-focus{f'[{extra}]' if extra else ''}")
            check_venv(checks, wheel, extra, tmp)
            done(t)
    print(f"\nwheel check: {checks.passed} checks ok, {len(checks.failed)} failing, "
          f"{time.perf_counter() - started:.0f} s")
    for name in checks.failed:
        print(f"  failing: {name}")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
