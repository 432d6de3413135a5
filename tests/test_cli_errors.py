"""Every user mistake and environment problem the CLI knows of: one line on stderr naming it, exit status 2,
no traceback, nothing written; a closed pipe ends quietly."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMAND = [sys.executable, "-m", "audiolab.cli"]

# (argv with {tmp} for the test's folder, a piece of the one line on stderr)
FAILURES = [
    (["record", "{tmp}/missing/run.jsonl", "--backend", "sim", "--duration", "0.2"], "does not exist"),
    (["record", "{tmp}/folder", "--backend", "sim", "--duration", "0.2"], "is a folder"),
    (["record", "{tmp}/run.jsonl", "--backend", "replay"], "invalid choice: 'replay'"),
    (["record", "{tmp}/run.jsonl", "--meter-rate", "1000"], "--meter-rate: must be 0, or more than 0 and at most 240"),
    (["record", "{tmp}/run.jsonl", "--meter-rate", "nan"], "--meter-rate: must be"),
    (["record", "{tmp}/run.jsonl", "--meter-rate", "inf"], "--meter-rate: must be"),
    (["record", "{tmp}/run.jsonl", "--meter-rate", "-1"], "--meter-rate: must be"),
    (["record", "{tmp}/run.jsonl", "--duration", "0"], "--duration: must be more than 0"),
    (["tone", "440", "--wav", "{tmp}/missing/a.wav"], "does not exist"),
    (["tone", "440", "--wav", "{tmp}/a.mp3"], "must end in .wav"),
    (["tone", "440", "--wav", "{tmp}/folder.wav"], "is a folder"),
    (["tone", "440", "--wav", "{tmp}/a.wav", "--backend", "pulse"], "needs --backend sim"),
    (["tone", "440", "--backend", "replay"], "invalid choice: 'replay'"),
    (["tone", "30000"], "Nyquist"),
    (["tone", "abc"], "FREQ: must be a number"),
    (["tone", "440", "--amplitude", "3"], "--amplitude: must be at least 0 and at most 1"),
    (["tone", "440", "--seconds", "-1"], "--seconds: must be more than 0"),
    (["tone", "440", "--seconds", "inf"], "--seconds: must be"),
    (["sessions", "--backend", "replay"], "invalid choice: 'replay'"),
    (["watch", "--backend", "replay"], "invalid choice: 'replay'"),
    (["watch", "--backend", "sim", "--duration", "nan"], "--duration: must be"),
    (["replay", "{tmp}/missing.jsonl"], "file: no such file"),
    (["replay", "{tmp}/garbage.jsonl"], "garbage.jsonl:1"),
    (["replay", "{tmp}/garbage.jsonl", "--speed", "inf"], "--speed: must be"),
    (["replay", "{tmp}/garbage.jsonl", "--speed", "0"], "--speed: must be more than 0"),
    (["replay", "{tmp}/garbage.jsonl", "--png", "{tmp}/missing/t.png"], "does not exist"),
    (["replay", "{tmp}/garbage.jsonl", "--png", "{tmp}/t.jpg"], "must end in .png"),
    (["replay", "{tmp}/garbage.jsonl", "--png", "{tmp}/t.png"], "garbage.jsonl:1"),
    (["explain", "--backend", "replay"], "invalid choice: 'replay'"),
    (["explain", "--backend", "sim", "--watch", "--duration", "nan"], "--duration: must be"),
    (["explain", "--backend", "wasapi"], "needs Windows"),
    (["demo", "--png", "/proc/version"], "must end in .png"),
    (["demo", "--png", "/proc/timeline.png"], "cannot write files in /proc"),
    (["demo", "--png", "{tmp}/folder.png"], "is a folder"),
    (["scenario", "run", "no-such-scenario"], "no scenario file or shipped scenario"),
    (["scenario", "run", "{tmp}/bad.toml"], "bad.toml:6"),
    (["scenario", "compare", "music-call", "--policies", "macos"], "policies are"),
    (["scenario", "run", "{tmp}/folder"], "cannot read scenario file"),
    (["sessions", "--backend", "wasapi"], "needs Windows"),  # an environment problem: BackendUnavailable
    (["record", "{tmp}/run.jsonl", "--backend", "wasapi", "--duration", "0.2"], "needs Windows"),
    (["no-such-command"], "invalid choice"),
]


def _files(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with what the failures need: two folders named like files, a garbage trace, a bad scenario."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "garbage.jsonl").write_text("not json\n", encoding="utf-8")
    (tmp_path / "bad.toml").write_text('[scenario]\ndescription = "x"\n\n[[action]]\nat = 0\ndo = "dance"\n',
                                       encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("argv", "says"), FAILURES, ids=[" ".join(a) for a, _ in FAILURES])
def test_a_failure_is_one_line_exit_2_and_leaves_nothing(workdir: Path, argv: list[str], says: str) -> None:
    before = _files(workdir)
    result = subprocess.run([*COMMAND, *(a.replace("{tmp}", str(workdir)) for a in argv)], cwd=workdir,
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert lines[0].startswith("audiolab")
    assert result.stdout == ""  # checked before anything ran (the demo did not tell its stories)
    assert _files(workdir) == before  # no trace, WAV, PNG or .part file, no probe


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    """A short trace of a simulated service in which a tone plays (so the replay has events to print)."""
    import anyio

    import audiolab
    from audiolab.tones import sine
    from audiolab.trace import record

    path = tmp_path / "run.jsonl"

    async def main() -> None:
        async with audiolab.open("sim", clock="virtual") as lab:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(record, lab, path, 1.0)
                await lab.sleep(0.1)
                await lab.play(sine(440, 0.5), app="Music", duration=0.5)
                await lab.sleep(1.0)  # virtual time: let the recording reach its end

    anyio.run(main)
    return path


@pytest.mark.parametrize("argv", [["scenario", "list"], ["sessions", "--backend", "sim"], ["replay", "{trace}",
                                  "--speed", "100"], ["replay", "{trace}", "--speed", "100", "--json"]])
def test_a_closed_pipe_ends_quietly(trace: Path, argv: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line, as `| head -0` would be
    try:
        result = subprocess.run([*COMMAND, *(a.replace("{trace}", str(trace)) for a in argv)], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _all_parsers(sub)
    return found


def test_every_command_has_an_example_and_every_option_a_help_text() -> None:
    from audiolab.cli import _parser

    parsers = _all_parsers(_parser())
    assert len(parsers) >= 10  # audiolab, 6 commands, scenario and its 3 subcommands
    for parser in parsers:
        assert parser.epilog and "example" in parser.epilog, parser.prog
        for action in parser._actions:
            assert action.help, f"{parser.prog} {action.option_strings or action.dest}"


def test_the_demo_without_a_writable_default_place_runs_without_its_picture() -> None:
    result = subprocess.run([*COMMAND, "demo"], cwd="/proc", capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr
    assert result.stdout.startswith("(no timeline PNG: artifacts/demo-timeline.png: cannot write files in .")
    assert "Final sessions:" in result.stdout and "focus timeline written" not in result.stdout


def test_ctrl_c_during_a_recording_ends_quietly_and_leaves_no_file(tmp_path: Path) -> None:
    import signal
    import time

    target = tmp_path / "run.jsonl"
    # A run started in the background by a shell without job control inherits SIGINT ignored, and Python keeps
    # it ignored: give the child the default disposition, as a terminal would, so that Ctrl-C reaches it.
    process = subprocess.Popen([*COMMAND, "record", str(target), "--backend", "sim", "--duration", "30"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("recording the sim backend")  # the .part file is opened right after
        time.sleep(0.5)  # by then the trace is being written
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130 and "Traceback" not in out + err
    assert list(tmp_path.iterdir()) == []  # neither the trace nor its .part
