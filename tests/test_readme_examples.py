"""The README's examples run as written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import anyio
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_first_example_runs_on_asyncio_and_trio(capsys):
    code = python_blocks()[0]
    namespace: dict = {}
    exec(compile(code.replace("anyio.run(main)", ""), "README", "exec"), namespace)
    for backend in ("asyncio", "trio"):
        anyio.run(namespace["main"], backend=backend)
    assert "System Sounds" in capsys.readouterr().out


def test_two_tones_in_two_sessions_meter_as_documented(capsys):
    block = next(b for b in python_blocks() if "lab.meters(rate=30)" in b)
    body = textwrap.indent(block, "    ")
    code = ("import audiolab\nfrom audiolab import Role\nfrom audiolab.tones import sine\n"
            f"async def main():\n{body}")
    namespace: dict = {}
    exec(compile(code, "README", "exec"), namespace)
    anyio.run(namespace["main"])
    music, game = (float(v) for v in capsys.readouterr().out.split())
    assert music == pytest.approx(0.5, abs=0.01)
    assert game == pytest.approx(0.25, abs=0.01)


def test_the_readme_scenario_runs_and_passes(tmp_path):
    from audiolab.scenarios import run_scenario

    block = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S).group(1)
    path = tmp_path / "readme.toml"
    path.write_text(block, encoding="utf-8")
    result = run_scenario(path)
    assert result.checks and all(check.passed for check in result.checks)
