"""The role matrix: computed by running the engine, it equals the matrix read from each table-driven system's
data; every cell says why; the CLI prints, writes JSON and draws it."""

from __future__ import annotations

import json

import pytest

from audiolab import PolicyError, Role
from audiolab.cli import main
from audiolab.focus.policy import BUILTIN
from audiolab.scenarios.matrix import OUTCOMES, RENDER_ROLES, role_matrices, role_matrix
from audiolab.scenarios.matrix_data import TABLE_DRIVEN


@pytest.fixture(scope="module")
def matrices():
    return {m.policy: m for m in role_matrices()}


@pytest.mark.parametrize("policy", sorted(TABLE_DRIVEN))
def test_the_engine_computed_matrix_equals_the_one_read_from_the_data(matrices, policy):
    expected = TABLE_DRIVEN[policy]()
    computed = matrices[policy]
    assert set(computed.cells) == set(expected)
    wrong = []
    for pair, (outcome, target, level) in expected.items():
        cell = computed.cells[pair]
        if (cell.outcome, cell.target) != (outcome, target) or cell.level != pytest.approx(level, abs=0.01):
            wrong.append(f"{pair[0].value} then {pair[1].value}: engine {cell.outcome} {cell.target} "
                         f"{cell.level:.3f}, data {outcome} {target} {level:.3f}")
    assert not wrong, "\n".join(wrong)
    assert len({c.outcome for c in computed.cells.values()}) >= 3  # a table that does something


def test_every_pair_of_render_roles_under_every_shipped_system_has_an_outcome_and_its_reason(matrices):
    assert set(matrices) == set(BUILTIN)
    assert len(RENDER_ROLES) == len(Role) - 2 and Role.RECORDING not in RENDER_ROLES
    for m in matrices.values():
        assert len(m.cells) == len(RENDER_ROLES) ** 2
        for cell in m.cells.values():
            assert cell.outcome in OUTCOMES
            assert cell.why is not None, f"{m.policy}: {cell.existing.value} then {cell.incoming.value}"
            assert cell.why.policy == m.policy
            if cell.outcome == "duck":
                assert 0.0 < cell.level < 0.995 and cell.why.predicted_gain == pytest.approx(cell.level, abs=0.01)


def test_a_duck_level_is_measured_from_the_rendered_audio():
    cell = role_matrix("windows", [Role.MUSIC, Role.VOICE_COMMUNICATION]).cell(Role.MUSIC, Role.VOICE_COMMUNICATION)
    assert (cell.outcome, cell.target) == ("duck", "existing")
    assert cell.level == pytest.approx(0.2, abs=0.005)  # 'reduce 80 %' after its 1 s fade
    assert cell.short == "d.20" and "DuckNotification" in " ".join(cell.told)
    muted = role_matrix(__import__("audiolab").focus.load_policy("windows", ducking="reduce_50"),
                        [Role.MUSIC, Role.RINGTONE]).cell(Role.MUSIC, Role.RINGTONE)
    assert muted.level == pytest.approx(0.5, abs=0.005)


def test_bad_input_is_refused_with_a_clear_error():
    with pytest.raises(PolicyError):
        role_matrix("no-such-policy")
    with pytest.raises(ValueError, match="render roles"):
        role_matrix("harmonyos", [Role.MUSIC, Role.RECORDING])
    with pytest.raises(ValueError, match="render roles"):
        role_matrix("harmonyos", [])
    with pytest.raises(TypeError, match="policy"):
        role_matrix(42)  # type: ignore[arg-type]


def test_cli_matrix_prints_the_grid_and_json_gives_each_cells_reason(capsys):
    assert main(["scenario", "matrix", "--policy", "harmonyos", "--policy", "wireplumber"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("harmonyos:") and "\nwireplumber:" in out and "d.20" in out and "392 pairs" in out
    assert main(["scenario", "matrix", "--policy", "harmonyos", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    [harmony] = data["policies"]
    cells = {(c["existing"], c["incoming"]): c for c in harmony["cells"]}
    nav = cells[("music", "navigation")]
    assert nav["outcome"] == "duck" and nav["level"] == pytest.approx(0.2, abs=0.005)
    assert nav["why"]["rule"]["action"] == "DUCK" and "STREAM_NAVIGATION" in nav["why"]["text"]
    assert all(c["why"] and c["why"]["text"] for c in harmony["cells"])


def test_cli_matrix_draws_a_png(tmp_path, capsys):
    png = tmp_path / "m.png"
    assert main(["scenario", "matrix", "--policy", "harmonyos", "--png", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote the matrix to {png}" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "says"), [
    (["--policy", "nope"], "invalid choice: 'nope'"),
    (["--policy", "harmonyos", "--png", "m.txt"], "must end in .png"),
])
def test_cli_matrix_mistakes_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv, says):
    monkeypatch.chdir(tmp_path)
    try:
        status = main(["scenario", "matrix", *argv])
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_fast_matrix_gives_the_cells_of_the_one_that_renders_every_block():
    roles = [Role.MUSIC, Role.NAVIGATION, Role.VOICE_COMMUNICATION, Role.ALARM, Role.NOTIFICATION]
    for policy in ("windows", "android", "ios"):
        fast, full = role_matrix(policy, roles), role_matrix(policy, roles, every_block=True)
        for pair, cell in full.cells.items():
            quick = fast.cells[pair]
            assert (quick.outcome, quick.target, quick.why, quick.told) == (cell.outcome, cell.target, cell.why, cell.told)
            assert quick.level == pytest.approx(cell.level, abs=0.01)
    with pytest.raises(TypeError, match="every_block"):
        role_matrix("windows", roles, every_block=1)  # type: ignore[arg-type]
