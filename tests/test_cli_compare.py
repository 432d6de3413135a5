"""``audiolab scenario compare`` as a student reads it: per setting, released after the timeout, the words
explained, the expectations row on request, and a PNG with one timeline row per policy."""

from __future__ import annotations

import re

import pytest

from audiolab.cli import main


def _table(out: str) -> dict[str, list[str]]:
    """The comparison table's rows by player, split on two or more spaces."""
    lines = out.split("\n\n")[1].splitlines()
    return {line.split()[0]: re.split(r"\s{2,}", line.strip())[1:] for line in lines[2:]}


def test_windows_call_ducking_reports_each_setting(capsys):
    assert main(["scenario", "compare", "windows-call-ducking", "--policies", "windows,pulseaudio"]) == 0
    out = capsys.readouterr().out
    assert _table(out)["Music"] == ["muted / -80 % / -50 % / nothing", "full"]
    assert "what each setting did under windows" in out
    rows = re.findall(r"^ducking = (\w+) \([\d-]+ s\)\s+(.+)$", out, re.MULTILINE)
    assert rows == [("mute", "muted"), ("reduce_80", "-80 %"), ("reduce_50", "-50 %"), ("nothing", "nothing")]
    assert "Music under windows, ducking = nothing (nothing): Windows tells every other session" in out


def test_idle_timeout_says_the_duck_was_released_after_60_s(capsys):
    assert main(["scenario", "compare", "idle-timeout"]) == 0
    assert _table(capsys.readouterr().out)["Music"] == ["ducked to 0.20, released after 60 s idle (TIMEOUT)"]
    assert main(["scenario", "compare", "idle-timeout-pause"]) == 0
    assert _table(capsys.readouterr().out)["Music"] == ["paused, stopped after 60 s idle (TIMEOUT)"]


def test_played_and_full_are_explained_and_expectations_only_on_request(capsys):
    assert main(["scenario", "compare", "music-call", "--policies", "harmonyos,windows"]) == 0
    out = capsys.readouterr().out
    assert _table(out)["Ring"] == ["played", "played"] and "expectations" not in _table(out)
    legend = out.split("what the words mean:")[1]
    assert "full: its gain, measured on the meters, stayed at 1.0" in legend
    assert "played: it played and nothing paused, stopped or denied it; its level was not measured" in legend
    assert main(["scenario", "compare", "music-call", "--policies", "harmonyos,windows", "--expectations"]) == 0
    row = _table(capsys.readouterr().out)["expectations"]
    assert len(row) == 2 and all(cell.endswith(" ok") for cell in row)


def test_png_draws_one_row_per_policy(tmp_path, capsys):
    png = tmp_path / "sub" / "compare.png"
    assert main(["scenario", "compare", "music-call", "--policies", "harmonyos,windows,pulseaudio", "--png",
                 str(png)]) == 0
    assert f"comparison timeline written to {png}" in capsys.readouterr().out
    from PIL import Image

    with Image.open(png) as image:
        width, height = image.size
    assert width > 1000 and height > 600  # three rows of ~1.9 in at 110 dpi


def test_png_rows_follow_the_policies():
    import anyio

    from audiolab.scenarios import compare_scenario
    from audiolab.widgets.comparison_plot import draw_comparison

    comparison = anyio.run(compare_scenario, "music-call", ["harmonyos", "windows"])
    fig = draw_comparison(comparison)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == ["harmonyos: Music paused, resumed; Ring played; Call full",
                      "windows: Music full; Ring played; Call full"]


@pytest.mark.parametrize("path", ["compare.txt", "."])
def test_png_bad_path_is_one_line_before_any_work(path, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["scenario", "compare", "music-call", "--png", path]) == 2
    out, err = capsys.readouterr()
    assert out == "" and list(tmp_path.iterdir()) == []  # nothing was compared, nothing written
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
