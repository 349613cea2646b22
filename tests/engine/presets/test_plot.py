"""``groove plot`` and engine.presets.plot: curves, knots, accents, atomic PNG, no matplotlib."""

import sys
from pathlib import Path

import numpy as np
import pytest

from engine import presets
from engine.cli import main
from engine.presets.plot import curve_series, default_span_beat

SHIPPED_NAMES = sorted(
    p.stem for p in (Path(__file__).resolve().parents[3] / "presets").glob("*.yaml")
)


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("GROOVE_PRESET_PATH", raising=False)


def _png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_series_of_a_swing_in_ms_and_percent():
    p = presets.load("swing16-58")
    (s,) = curve_series([p], span_beat=1.0, unit="ms", bpm=120.0)
    assert np.allclose(s.knot_beat, [0, 0.25, 0.5, 0.75, 1.0])
    assert np.allclose(s.knot_y, [0, 20, 0, 20, 0])  # 8% of two 16ths = 0.16 * 125 ms
    # between knots the swing is a straight line
    mid = np.argmin(np.abs(s.x_beat - 0.125))
    assert np.isclose(s.y[mid], 10.0, atol=0.5)
    assert s.accent.size == 0  # a swing has no accents
    (pct,) = curve_series([p], span_beat=1.0, unit="percent")
    assert np.allclose(pct.knot_y, [0, 16, 0, 16, 0])


def test_series_with_lanes_and_accents():
    p = presets.load("funk-16")
    series = curve_series([p], lanes=True)
    assert [s.label for s in series] == [
        "funk-16 (notes in no lane)",
        "funk-16 · snare (notes 37 38 40)",
        "funk-16 · hats (notes 42 44 46)",
    ]
    assert [s.lane for s in series] == [0, 1, 2] and [s.color for s in series] == [0, 1, 2]
    main_accent = series[0].accent
    assert np.allclose(main_accent, p.groove.params["velocity"])
    assert np.allclose(series[1].knot_y[:16] / 500.0 / 0.25, p.lanes[0].groove.params["offsets"])
    assert len(curve_series([p], lanes=False)) == 1
    both = curve_series([p, presets.load("halfway")], lanes=True)
    assert [s.color for s in both] == [0, 0, 0, 1, 1, 1]


def test_default_span():
    assert default_span_beat([presets.load("swing16-58")]) == 1.0
    assert default_span_beat([presets.load("swing8-58"), presets.load("funk-16")]) == 4.0


def test_plot_cli_writes_a_png_atomically(tmp_path, capsys):
    out = tmp_path / "curve.png"
    out.write_bytes(b"old")
    assert main(["plot", "swing16-58", "funk-16", "halfway", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    width, height = _png_size(out)
    assert width > 1000 and height > 600
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_every_shipped_preset_plots(tmp_path, name):
    from engine.presets.plot import plot_presets

    path = plot_presets([presets.load(name)], tmp_path / f"{name}.png", unit="percent")
    assert _png_size(path)[0] > 1000


def test_plot_svg_and_options(tmp_path):
    out = tmp_path / "c.svg"
    assert (
        main(
            [
                "plot",
                "hiphop-laidback",
                "-o",
                str(out),
                "--unit",
                "percent",
                "--beats",
                "2",
                "--no-lanes",
                "--bpm",
                "90",
            ]
        )
        == 0
    )
    assert out.read_text().lstrip().startswith("<?xml")


def test_plot_without_matplotlib_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    out = tmp_path / "c.png"
    assert main(["plot", "funk-16", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "groove plot: matplotlib is not installed; install it with pip install 'groove[plot]'\n"
    )
    assert not out.exists()


def test_plot_bad_input_is_one_line(tmp_path, capsys):
    assert main(["plot", "nonesuch", "-o", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("groove plot: nonesuch: no preset") and err.count("\n") == 1
    assert main(["plot", "funk-16", "-o", str(tmp_path / "no" / "dir" / "c.png")]) == 2
    assert capsys.readouterr().err.startswith("groove plot: ")
    assert main(["plot", "funk-16", "-o", str(tmp_path / "c.png"), "--beats", "-1"]) == 2
    assert list(tmp_path.iterdir()) == []
