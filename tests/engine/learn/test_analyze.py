"""groove analyze: swing, mean offset, spread, accents, the displacement region, the CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from engine import cli
from engine.learn import analyze, extract, performance
from tests.engine.learn.test_extract import (
    GMD_FILE,
    HAT,
    KICK,
    PARTITURA,
    SNARE,
    needs_gmd,
    needs_partitura,
    write_midi,
)


def run(*argv):
    return cli.main([str(a) for a in argv])


def swung(amount, bars=8, late_ms=0.0, bpm=120.0, seed=0, noise_ms=2.0):
    """16th hats swung by ``amount`` %, kick on 1, snare on 3, all ``late_ms`` late."""
    rng = np.random.default_rng(seed)
    ms_per_beat = 60000.0 / bpm
    notes = []
    for b in range(bars * 4):
        for k in range(4):
            pos = b + (k // 2) * 0.5 + (k % 2) * 0.5 * amount / 100.0
            jitter = (late_ms + rng.normal(0, noise_ms)) / ms_per_beat
            notes.append((pos + jitter, HAT, 100 if k == 0 else 60))
        notes.append((b + late_ms / ms_per_beat, KICK if b % 2 == 0 else SNARE, 110))
    return notes


def report_of(tmp_path, notes, **kw):
    f = write_midi(tmp_path / "p.mid", notes)
    return analyze.report(extract.extract(performance.read(f), **kw))


@pytest.mark.parametrize("amount", [50.0, 58.0, 64.0])
def test_swing_on_16ths(tmp_path, amount):
    rep = report_of(tmp_path, swung(amount))
    assert rep["swing_percent"]["16ths"] == pytest.approx(amount, abs=0.6)
    assert rep["swing_percent"]["8ths"] == pytest.approx(50.0, abs=0.6)


def test_swing_on_8ths_of_a_triplet_grid(tmp_path):
    notes = [(b + f, HAT, 80) for b in range(32) for f in (0.0, 2 / 3)]
    rep = report_of(tmp_path, notes, grid="1/8t")
    assert rep["swing_percent"]["8ths"] == pytest.approx(66.67, abs=0.1)
    assert rep["swing_percent"]["16ths"] is None


def test_swing_percent_by_hand():
    offsets = np.zeros(16)
    offsets[1::2] = 0.2  # every odd 16th a fifth of a step late
    count = np.ones(16, int)
    assert analyze.swing_percent(offsets, count, 0.25, 0.25) == pytest.approx(60.0)
    offsets[2::4] = -0.1  # the off-beat 8th a tenth of a 16th early
    assert analyze.swing_percent(offsets, count, 0.25, 0.5) == pytest.approx(50 - 0.1 * 25)
    assert analyze.swing_percent(offsets, np.zeros(16, int), 0.25, 0.5) is None


@pytest.mark.parametrize(
    "late_ms, feel", [(12.0, "laid back"), (-9.0, "ahead of the beat"), (0.5, "on the beat")]
)
def test_mean_offset_and_feel(tmp_path, late_ms, feel):
    rep = report_of(tmp_path, swung(50.0, late_ms=late_ms))
    assert rep["mean_offset_ms"] == pytest.approx(late_ms, abs=1.0)
    assert rep["feel"] == feel


def test_spread_is_the_robust_sd_around_the_fit(tmp_path):
    rep = report_of(tmp_path, swung(50.0, bars=32, noise_ms=6.0))
    hats = next(ln for ln in rep["lanes"] if ln["name"] == "hi-hat")
    spreads = [s["spread_ms"] for s in hats["steps"]]
    assert np.median(spreads) == pytest.approx(6.0, rel=0.25)
    assert rep["tightness_ms"] == pytest.approx(6.0, rel=0.25)
    kick = next(ln for ln in rep["lanes"] if ln["name"] == "kick")
    assert kick["steps"][0]["accent"] == 1.0 and kick["steps"][1]["notes"] == 0


def test_region_matches_a_slow_integration():
    offsets = np.array([0.0, 0.3, 0.0, 0.3, 0.0, -0.2, 0.0, 0.25])
    ms_per_beat = 500.0
    reg = analyze.region_report(offsets, "1/16", 2, ms_per_beat)
    t = np.linspace(0.0, 2.0, 200001)
    d = np.interp(t, np.append(np.arange(8) * 0.25, 2.0), np.append(offsets * 0.25, 0.0))
    area = np.trapezoid(np.abs(d), t) * ms_per_beat
    assert reg["area_beat_ms"] == pytest.approx(area, rel=1e-4)
    assert reg["signed_area_beat_ms"] == pytest.approx(np.trapezoid(d, t) * ms_per_beat, rel=1e-4)
    assert reg["centroid_beat"] - 1 == pytest.approx(
        np.trapezoid(t * np.abs(d), t) / np.trapezoid(np.abs(d), t), abs=1e-3
    )
    assert reg["pull"] == "late" and reg["lobes"] == 4
    straight = analyze.region_report(np.zeros(8), "1/16", 2, ms_per_beat)
    assert straight["area_beat_ms"] == 0 and straight["centroid_beat"] is None


def test_position_labels():
    assert [analyze.position_label(k, 0.25) for k in range(5)] == ["1", "1e", "1&", "1a", "2"]
    assert [analyze.position_label(k, 1 / 3) for k in range(4)] == ["1", "1trip", "1let", "2"]
    assert analyze.position_label(1, 0.125) == "1+0.125"


def test_cli_text_json_and_plot(tmp_path, capsys):
    f = write_midi(tmp_path / "p.mid", swung(60.0))
    assert run("analyze", f) == 0
    text = capsys.readouterr().out
    m = re.search(r"swing: 8ths ([\d.]+)%, 16ths ([\d.]+)%", text)
    assert float(m.group(1)) == pytest.approx(50, abs=0.3)
    assert float(m.group(2)) == pytest.approx(60, abs=0.3)
    assert "displacement" in text and "hi-hat" in text
    png = tmp_path / "a.png"
    assert run("analyze", f, "--json", "--plot", png) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["swing_percent"]["16ths"] == pytest.approx(60.0, abs=0.5)
    assert {ln["name"] for ln in rep["lanes"]} >= {"all", "kick", "snare", "hi-hat"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_bad_plot_name(tmp_path, capsys):
    f = write_midi(tmp_path / "p.mid", swung(60.0))
    assert run("analyze", f, "--plot", tmp_path / "a.txt") == 2
    assert ".png" in capsys.readouterr().err
    assert run("analyze", f, "--plot", tmp_path / "no" / "a.png") == 2


@needs_gmd
def test_a_real_drummer(tmp_path, capsys):
    png = tmp_path / "d.png"
    assert run("analyze", GMD_FILE, "--json", "--plot", png) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["notes_used"] > 500 and rep["residual_ms"] < rep["quantized_ms"]
    assert png.stat().st_size > 10_000


@needs_partitura
def test_the_partitura_pair(capsys):
    assert (
        run(
            "analyze",
            PARTITURA / "mozart_k265_var1.mid",
            "--score",
            PARTITURA / "mozart_k265_var1_quantized.mid",
            "--period",
            "2",
            "--json",
        )
        == 0
    )
    rep = json.loads(capsys.readouterr().out)
    assert rep["match_share"] > 0.9
    assert [ln["name"] for ln in rep["lanes"]] == ["all", "piano-0", "piano-1"]
