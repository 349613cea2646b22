"""groove match: scoring presets against a performance, ranking, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

import groove
from engine import cli, presets
from engine.learn import match, performance
from engine.presets.model import Preset
from tests.engine.learn.test_extract import (
    GMD_FILE,
    HAT,
    KICK,
    drum_notes,
    needs_gmd,
    planted,
    write_midi,
)


def run(*argv):
    return cli.main([str(a) for a in argv])


def swing_yaml(folder, amount, grid="1/16"):
    name = f"sw{amount}"
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nkind: swing\namount: {amount}\ngrid: {grid}\n")
    return path


def played_with(g, bars=8, noise_ms=3.0, seed=0):
    """16th hats and quarter kicks on the grid, moved by groove g, plus timing noise."""
    rng = np.random.default_rng(seed)
    grid = np.arange(bars * 16) * 0.25
    pos = g.forward(grid) + rng.normal(0, noise_ms / 500.0, grid.size)
    return [(p, KICK if i % 4 == 0 else HAT, 90) for i, p in enumerate(pos)]


def huber_rms_slow(r, delta):
    total = sum(0.5 * x * x if abs(x) <= delta else delta * (abs(x) - 0.5 * delta) for x in r)
    return (2.0 * total / len(r)) ** 0.5


def test_huber_rms_is_the_rms_for_small_residuals_and_robust_beyond():
    small = np.array([1.0, -2.0, 3.0])
    assert match.huber_rms_ms(small) == pytest.approx(np.sqrt(np.mean(small**2)))
    wild = np.array([1.0, -2.0, 300.0])
    assert match.huber_rms_ms(wild) == pytest.approx(huber_rms_slow(wild, match.HUBER_MS))
    assert match.huber_rms_ms(wild) < np.sqrt(np.mean(wild**2)) / 3


def test_the_generating_groove_ranks_first(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    for amount in (50.5, 55, 60, 67, 71):
        swing_yaml(lib, amount)
    f = write_midi(tmp_path / "p.mid", played_with(groove.swing(60)))
    perf = performance.read(f)
    rows, problems = match.candidates(lib)
    assert not problems and len(rows) == 5
    ranking = match.rank(perf, rows)
    assert [r["name"] for r in ranking][:3] == ["sw60", "sw55", "sw67"]
    assert ranking[0]["score_ms"] == pytest.approx(3.0, rel=0.2)  # only the noise is left
    assert ranking[0]["best_timing"] == pytest.approx(1.0, abs=0.1)
    assert ranking[0]["giou"] > ranking[-1]["giou"]
    scores = [r["score_ms"] for r in ranking]
    assert scores == sorted(scores) and [r["rank"] for r in ranking] == [1, 2, 3, 4, 5]


def test_a_perfect_rendering_scores_zero_and_giou_one(tmp_path):
    g = groove.swing(58)
    notes = [(float(g.forward(k * 0.25)), HAT, 90, 0.1) for k in range(64)]
    perf = performance.read(write_midi(tmp_path / "p.mid", notes, tpb=9600))
    res = match.score_preset(perf, Preset.from_groove(g, name="sw58"))
    assert res["score_ms"] < 0.05 and res["mean_abs_ms"] < 0.05
    assert res["giou"] == pytest.approx(1.0, abs=1e-3)


def test_an_extracted_groove_explains_its_own_performance_best(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    drums = write_midi(tmp_path / "d.mid", drum_notes(planted(), bars=16))
    assert run("extract", drums, "-o", lib / "mine.yaml") == 0
    swing_yaml(lib, 58)
    (lib / "straight.yaml").write_text("name: straight\nkind: straight\ngrid: 1/16\n")
    ranking = match.rank(performance.read(drums), match.candidates(lib)[0])
    assert ranking[0]["name"] == "mine" and ranking[0]["lanes"]


def test_cli_table_json_top_and_invalid_presets(tmp_path, capsys):
    lib = tmp_path / "lib"
    lib.mkdir()
    for amount in (54, 60, 66):
        swing_yaml(lib, amount)
    (lib / "broken.yaml").write_text("name: broken\nkind: swing\namount: 500\ngrid: 1/16\n")
    f = write_midi(tmp_path / "p.mid", played_with(groove.swing(66)))
    assert run("match", f, "--presets", lib, "--top", "2") == 0
    cap = capsys.readouterr()
    assert "skipped an invalid preset" in cap.err and "broken" in cap.err
    table = cap.out.splitlines()
    assert "2 of 3 presets" in table[0] and table[2].split()[:2] == ["1", "sw66"]
    assert len(table) == 4
    assert run("match", f, "--presets", lib, "--json", "--top", "0") == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in doc["ranking"]][0] == "sw66" and doc["candidates"] == 3


def test_cli_without_presets_or_notes(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    f = write_midi(tmp_path / "p.mid", played_with(groove.swing(60)))
    assert run("match", f, "--presets", empty) == 2
    assert "no valid presets" in capsys.readouterr().err
    assert run("match", f, "--presets", tmp_path / "nope") == 2
    assert "not a folder" in capsys.readouterr().err
    swing_yaml(empty, 60)
    assert run("match", f, "--presets", empty, "--channels", "1") == 2
    assert "no notes on the chosen" in capsys.readouterr().err


def test_shipped_presets_are_candidates():
    rows, _ = match.candidates()
    names = {r[0] for r in rows}
    assert {"straight", "swing16-58"} <= names
    assert all(isinstance(r[3], Preset) for r in rows)
    assert presets.load("straight").kind == "straight"


@needs_gmd
def test_a_real_drummer(capsys):
    assert run("match", GMD_FILE, "--top", "3", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["ranking"]) == 3 and doc["notes"] > 500
    assert doc["ranking"][0]["score_ms"] <= doc["ranking"][-1]["score_ms"]


def test_presets_folder_ranks_daw_grooves_too(tmp_path, capsys):
    from tests.engine.presets.daw_files import swing_points, write_rgt

    lib = tmp_path / "lib"
    lib.mkdir()
    swing_yaml(lib, 54)
    write_rgt(lib / "sws66.rgt", 0, 4, swing_points(66, 0.25, 4))
    f = write_midi(tmp_path / "p.mid", played_with(groove.swing(66)))
    assert run("match", f, "--presets", lib, "--json", "--top", "0") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["candidates"] == 2
    assert doc["ranking"][0]["name"] == "sws66"
