"""``groove presets list|show|schema`` and the terminal chart."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from engine import presets
from engine.cli import main
from engine.presets.chart import column_chart, step_values

SHIPPED = Path(__file__).resolve().parents[3] / "presets"


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("GROOVE_PRESET_PATH", raising=False)


def test_list_table(capsys):
    assert main(["presets", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "PERIOD", "DESCRIPTION"]
    rows = {line.split()[0]: line.split(None, 3) for line in lines[1:]}
    assert rows["funk-16"][1:3] == ["template", "4"]
    assert rows["swing8-58"][1:3] == ["swing", "1"]
    assert rows["halfway"][1] == "blend"
    assert rows["swing16-58"][3] == "1/16 swing at 58% (light, MPC-style)"


def test_list_json_includes_invalid_user_presets(tmp_path, capsys, monkeypatch):
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "oops.yaml").write_text("kind: swing\namount: 58\n")
    monkeypatch.setenv("GROOVE_PRESET_PATH", str(tmp_path / "env"))
    assert main(["presets", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["swing16-66"]["kind"] == "swing" and rows["swing16-66"]["period_beat"] == 0.5
    assert rows["swing16-66"]["origin"] == "shipped" and rows["swing16-66"]["error"] is None
    assert rows["oops"]["kind"] == "invalid" and rows["oops"]["origin"] == "GROOVE_PRESET_PATH"
    assert rows["oops"]["error"].endswith(
        "oops.yaml:1:1: preset: missing key 'grid' (needs kind, amount, grid)"
    )


def test_show_template_with_lanes(capsys):
    assert main(["presets", "show", "funk-16"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"funk-16  ({SHIPPED / 'funk-16.yaml'})")
    assert re.search(r"\n  offsets +\[0, 0.08, -0.02, 0.1,", out)
    assert re.search(r"\n  lane snare +notes 37 38 40\n  lane hats +notes 42 44 46\n", out)
    assert "timing 1, quantize 0, velocity 0.5, random none" in out
    assert "D from -3.8 to +15.0 ms at 120 bpm" in out
    for title in ("main", "lane snare", "lane hats"):
        assert f"{title}: D at each 1/16 step, ms at 120 bpm" in out
    assert "+15.0 ┤" in out and "accent" in out


def test_show_blend_lists_its_parts(capsys):
    assert main(["presets", "show", "halfway", "--ascii", "--percent"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\n  of +swing16-66 x 0.5, funk-16 x 0.5\n", out)
    assert "main: D at each 1/16 step, % of a 1/16 step" in out
    assert not any(ch in out for ch in "█┼▁▀")


def test_show_swing_draws_sixteenths(capsys):
    assert main(["presets", "show", "swing8-66", "--bpm", "100"]) == 0
    out = capsys.readouterr().out
    assert "main: D at every 1/16, ms at 100 bpm" in out
    assert "+96.0 ┤" in out  # 0.16 * 2 eighth = 0.32 beat at 100 bpm = 192 ms / 2


def test_show_errors_are_one_line(capsys):
    assert main(["presets", "show", "nonesuch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("groove presets: nonesuch: no preset")
    assert main(["presets", "show", "funk-16", "--bpm", "0"]) == 2
    assert "--bpm: 0 is outside" in capsys.readouterr().err


def test_presets_without_action_prints_help(capsys):
    assert main(["presets"]) == 2
    assert "validate" in capsys.readouterr().out


def test_schema_prints_the_schema(capsys):
    assert main(["presets", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == presets.json_schema()


def _column_heights(lines, column, width=3):
    """Full blocks above (+) and below (-) the axis in one column of a chart."""
    axis = next(i for i, line in enumerate(lines) if "┼" in line)
    start = lines[axis].index("┼") + 1 + column * width
    up = sum(line[start] == "█" for line in lines[:axis])
    down = sum(line[start] == "█" for line in lines[axis + 1 : -1])
    return up, down


def test_column_chart_heights_follow_the_values():
    lines = column_chart([0, 8, 4, -2, 3], np.arange(5) * 0.25, height=5, unit_label="ms")
    # 8 up, 2 down over 5 rows: 4 rows above the axis at 2 ms each, 1 below
    assert [_column_heights(lines, c) for c in range(5)] == [(0, 0), (4, 0), (2, 0), (0, 1), (1, 0)]
    assert "▄" in lines[2]  # 3 ms is one and a half rows: a half block on the second row
    assert lines[0].split()[0] == "+8.0" and lines[-2].split()[0] == "-2.0"
    assert lines[-1].split() == ["1", "2"] and lines[-1].index("2") - lines[-1].index("1") == 12


def test_step_values_match_the_curve():
    p = presets.load("swing16-75")
    beats, ms = step_values(p.groove, "ms", 120.0)
    assert np.allclose(beats, np.arange(8) * 0.25)
    assert np.allclose(ms, [0, 62.5] * 4)  # (75-50)/50 of a 16th (125 ms)
    _, pct = step_values(p.groove, "percent")
    assert np.allclose(pct, [0, 50] * 4)
