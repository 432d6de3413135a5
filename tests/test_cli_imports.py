"""`audiolab sessions --backend sim` starts with what it needs only: no NumPy (the simulated service loads its
audio path with the first tone), no scenarios, widgets or plotting."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys, io, contextlib
from audiolab.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    status = main(["sessions", "--backend", "sim", "--json"])
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""
NOT_NEEDED = ("numpy", "audiolab.audio.synth", "audiolab.audio.bank", "audiolab.scenarios", "audiolab.widgets",
              "audiolab.trace", "matplotlib", "ipywidgets", "trio",
              # the focus engine is made when something first asks for focus; listing sessions never does
              "audiolab.focus.engine", "audiolab.focus.actions", "audiolab.focus.windows",
              # what the start once paid for without using: a TOML parser (the bundled policies are JSON), uuid
              # (and platform), shutil (argparse's terminal width), tempfile, importlib.resources
              "tomllib", "uuid", "platform", "shutil", "tempfile", "importlib.resources")


def test_sessions_on_the_simulated_service_imports_no_numpy() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60)
    report = json.loads(result.stdout)
    assert report["status"] == 0
    loaded = set(report["modules"])
    assert "audiolab.backends.sim.engine" in loaded  # the command did run the simulated service
    assert not {m for m in loaded if any(m == n or m.startswith(n + ".") for n in NOT_NEEDED)}


def test_a_tone_on_the_simulated_service_still_loads_the_audio_path() -> None:
    probe = PROBE.replace('["sessions", "--backend", "sim", "--json"]', '["tone", "440", "--seconds", "0.1", '
                                                                         '"--backend", "sim"]')
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    report = json.loads(result.stdout)
    assert report["status"] == 0 and "numpy" in report["modules"]


ARGVS = (
    ["sessions", "--backend", "sim", "--json"],
    ["watch", "--backend", "sim", "--json"],
    ["tone", "440", "--seconds", "0.5", "--role", "navigation"],
    ["replay", __file__, "--speed", "2"],  # an existing file: the parser checks only that
    ["explain", "--backend", "sim"],
    ["scenario", "run", "music-call", "--json"],
    ["demo"],
)


def test_the_parser_of_one_command_group_reads_its_command_as_the_whole_parser_does() -> None:
    from audiolab.cli import COMMAND_GROUPS, _parser

    for argv in ARGVS:
        whole, partial = vars(_parser().parse_args(argv)), vars(_parser(argv).parse_args(argv))
        assert partial == whole, argv
        built = {name for group in COMMAND_GROUPS for name in group.COMMANDS if name in _subcommands(_parser(argv))}
        assert built == {name for group in COMMAND_GROUPS if argv[0] in group.COMMANDS for name in group.COMMANDS}
    assert _subcommands(_parser(["nonsense"])) == _subcommands(_parser())  # an unknown word: the whole parser
    assert _subcommands(_parser(["--help", "sessions"])) == _subcommands(_parser())  # the top-level help lists all


def _subcommands(parser: object) -> set[str]:
    import argparse

    assert isinstance(parser, argparse.ArgumentParser)
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices)


def test_import_audiolab_loads_no_event_loop_library() -> None:
    """A trio user's `import audiolab` loads no asyncio (and an asyncio user's no trio): anyio picks one at run."""
    probe = "import json, sys, audiolab; print(json.dumps(sorted(sys.modules)))"
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                                           timeout=60).stdout))
    assert "audiolab.lab" in loaded and not {"asyncio", "trio"} & loaded
