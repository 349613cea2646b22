"""``groove info`` and engine.host.tempo, on fixtures with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine import cli
from engine.host.tempo import TempoMap, bars
from engine.midi.info import describe, grid_offsets

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "midi"
PARTITURA = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "midi-edge" / "partitura"
)


def test_tempo_map_seconds_and_back():
    m = TempoMap(480, [0, 960, 960, 1920], [500_000, 250_000, 1_000_000, 400_000])
    # 0..960 at 0.5 s/beat (2 beats = 1 s), 960..1920 at 1 s/beat (the last change at 960 wins)
    np.testing.assert_allclose(
        m.seconds([0, 480, 960, 1440, 1920, 2400]), [0, 0.5, 1.0, 2.0, 3.0, 3.4]
    )
    np.testing.assert_allclose(
        m.ticks_at_seconds([0, 0.5, 1.0, 2.0, 3.0, 3.4]), [0, 480, 960, 1440, 1920, 2400]
    )
    np.testing.assert_array_equal(
        m.tempo_at([0, 959, 960, 5000]), [500_000, 500_000, 1_000_000, 400_000]
    )
    assert TempoMap(96).seconds(96) == pytest.approx(0.5)  # 120 BPM before any tempo
    with pytest.raises(ValueError):
        TempoMap(0)


def test_bars_follow_time_signatures():
    assert bars([], 480, 4 * 480 * 3) == 3
    assert bars([(0, 3, 4), (1440, 4, 4)], 480, 3360) == 2
    assert bars([(0, 6, 8)], 96, 96 * 6) == 2


def test_describe_mixed_fixture():
    info = describe(FIXTURES / "mixed.mid")
    assert info["format"] == 1 and info["ticks_per_beat"] == 480
    assert [t["name"] for t in info["tracks"]] == ["conductor", "drums", "keys"]
    assert info["tracks"][1]["channels"] == {"10": 17} and info["tracks"][2]["notes"] == 2
    assert [t["bpm"] for t in info["tempo_changes"]] == [120, 150]
    assert [s["signature"] for s in info["time_signatures"]] == ["3/4", "4/4"]
    assert info["length"] == dict(ticks=3360, beats=7.0, bars=2.0, seconds=3.1)
    assert info["unended_notes"] == 1 and info["orphan_note_offs"] == 1


def test_grid_offsets_known_values():
    m = TempoMap(480)
    start = np.array([0, 120 + 12, 240 - 24, 360, 480 + 60])  # 0, +12, -24, 0, +60 ticks
    g = grid_offsets(start, np.zeros(5, np.int64), 480, [m])
    # |offsets| 0, 12, 24, 0, 60 ticks -> median 12 ticks = 12.5 ms = 10% of a 16th
    assert g["median_ms"] == pytest.approx(12.5) and g["median_pct"] == pytest.approx(10.0)
    assert g["p90_pct"] == pytest.approx(np.percentile([0, 10, 20, 0, 50], 90))
    assert not g["quantized"]
    assert grid_offsets(np.array([0, 120, 240]), np.zeros(3, np.int64), 480, [m])["quantized"]


@pytest.mark.skipif(not PARTITURA.is_dir(), reason=f"shared data absent: {PARTITURA}")
def test_performance_and_quantized_pair():
    played = describe(PARTITURA / "mozart_k265_var1.mid")["grid"]
    score = describe(PARTITURA / "mozart_k265_var1_quantized.mid")["grid"]
    assert score["quantized"] and score["p90_pct"] == 0
    assert not played["quantized"] and played["median_ms"] > 5


def test_cli_text_and_json(capsys):
    assert cli.main(["info", str(FIXTURES / "mixed.mid")]) == 0
    text = capsys.readouterr().out
    assert "3 track(s)" in text and "150 BPM at tick 1440" in text and "off the 1/16 grid" in text
    assert cli.main(["info", "--json", str(FIXTURES / "format2.mid")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == 2 and data["length"]["seconds"] == 5.0  # the 60 BPM sequence


def test_cli_bad_file_exit_2(capsys):
    path = FIXTURES / "broken" / "smpte.mid"
    assert cli.main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"groove info: {path}: SMPTE") and "\n" not in err


def test_many_tracks_is_quick_and_truncated(tmp_path, capsys):
    body = b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"
    path = tmp_path / "many.mid"
    path.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x27\x10\x01\xe0" + body * 10000)
    assert cli.main(["info", str(path)]) == 0
    assert "... and 9936 more tracks" in capsys.readouterr().out
