"""REAPER/SWS .rgt grooves: versions 0 and 1, Windows exponents, the grid rule, bad files."""

from __future__ import annotations

import numpy as np
import pytest

import groove
from engine.presets import PresetError, load
from engine.presets.daw import read
from tests.engine.presets.daw_files import rgt_text, swing_points, windows_float, write_rgt


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("grid, step", [("1/16", 0.25), ("1/8", 0.5)])
def test_swing_57_is_swing_57(tmp_path, version, grid, step):
    pts = swing_points(57, step, 4)
    points = pts if version == 0 else [(p, 0.8) for p in pts]
    path = write_rgt(tmp_path / "swing.rgt", version, 4, points)
    g = load(path).groove
    assert g == groove.swing(57, grid)
    x = np.linspace(-1, 9, 301)
    np.testing.assert_array_equal(g.forward(x), groove.swing(57, grid).forward(x))


def test_windows_exponents_and_the_bar_line_twice(tmp_path):
    # SWS on Windows prints 1e-007; its own files carry the next bar's 0 as well
    pts = [1e-7, 0.6, 1.0, 1.6, 2.0, 2.6, 3.0, 3.6, 4.0]
    text = rgt_text(1, 4, [(p, 1.0) for p in pts], fmt=windows_float)
    assert "1e-007" in text
    path = tmp_path / "win.rgt"
    path.write_text(text, newline="")
    (item,) = read(path)
    assert item.fields["grid"] == "1/8"
    assert item.fields["period"] == 1
    # 1e-007 and 4 are the bar line twice over: one point, at 0
    assert item.fields["offsets"] == [0.0, 0.2]
    assert not any("same" in w for w in item.warnings)


def test_fewer_points_than_the_grid_has_steps(tmp_path):
    # a laid-back snare only: beats 2 and 4 late, the rest untouched
    path = write_rgt(tmp_path / "snare.rgt", 0, 4, [1.05, 3.05])
    (item,) = read(path)
    assert item.fields["grid"] == "1/4" and item.fields["period"] == 2
    assert item.fields["offsets"] == [0.0, 0.05]


def test_coarsest_grid_with_one_point_per_step(tmp_path):
    triplets = [k / 3 for k in range(12)]
    assert read(write_rgt(tmp_path / "t.rgt", 0, 4, triplets))[0].fields["grid"] == "1/8t"
    sixteenths = [k / 4 + (0.02 if k % 4 == 3 else 0) for k in range(16)]
    assert read(write_rgt(tmp_path / "s.rgt", 0, 4, sixteenths))[0].fields["grid"] == "1/16"


def test_two_points_on_one_step_keep_the_nearer_and_warn(tmp_path):
    path = write_rgt(tmp_path / "two.rgt", 0, 1, [0.0, 0.26, 0.2, 0.5, 0.75])
    (item,) = read(path, grid="1/16")
    assert item.fields["offsets"] == [0.0, pytest.approx(0.04), 0.0, 0.0]
    assert any("kept 0.26" in w and "the nearer" in w for w in item.warnings)


def test_amplitudes_become_accents(tmp_path):
    path = write_rgt(tmp_path / "v.rgt", 1, 1, [(0, 1.0), (0.5, 0.5), (0.75, -1)])
    (item,) = read(path, grid="1/16")
    assert item.fields["velocity"] == [1.0, 1.0, 0.5, 1.0]
    g = load(path).groove  # without --grid: 1/8t (on 1/8, 0.5 and 0.75 share a step)
    assert g.grid == "1/8t" and g.accent(1 / 3) == 0.5 and g.forward(1 / 3) == 0.5


def test_a_tie_written_with_six_digits_goes_to_the_earlier_step(tmp_path):
    # swing 75 on 1/8t: every other point half a step late, as SWS prints it (%g)
    pts = swing_points(75, 1 / 3, 4)
    path = write_rgt(tmp_path / "t.rgt", 1, 4, [(p, 1.0) for p in pts], fmt=lambda v: f"{v:g}")
    assert "1.16667" in path.read_text()
    (item,) = read(path)
    assert item.fields["grid"] == "1/8t" and not item.warnings
    offsets = item.fields["offsets"]  # 6 digits: 1e-5 off, so no longer one repeat per beat
    assert len(offsets) == 12
    assert offsets == pytest.approx([0.0, 0.5] * 6, abs=1e-4)


def test_a_long_file_is_shortened_to_its_repeat_before_the_limit(tmp_path):
    # 128 beats of a 16th swing: one beat repeated
    path = write_rgt(tmp_path / "long.rgt", 0, 128, swing_points(57, 0.25, 128))
    assert load(path).groove == groove.swing(57)
    # 67 beats that do not repeat sooner: more than a preset holds
    pts = swing_points(60, 0.5, 67)[:-1]
    with pytest.raises(PresetError, match="does not repeat within 64 beats"):
        read(write_rgt(tmp_path / "odd.rgt", 0, 67, pts))


def test_grid_that_does_not_hold_the_groove(tmp_path):
    path = write_rgt(tmp_path / "s.rgt", 0, 4, swing_points(57, 0.25, 4))
    with pytest.raises(PresetError, match="not a grid"):
        read(path, grid="1/5")


# -- bad files ----------------------------------------------------------------------


def _bad(tmp_path, text: str):
    path = tmp_path / "bad.rgt"
    path.write_text(text)
    with pytest.raises(PresetError) as info:
        read(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


@pytest.mark.parametrize(
    "text, words",
    [
        ("hello world\n", "not an SWS groove"),
        ("Version: 2\nNumber of beats in groove: 4\nGroove: 1 positions\n0\n", "not 0 or 1"),
        ("Version: 0\nbeats: 4\nGroove: 1 positions\n0\n", ":2: expected"),
        ("Version: 0\nNumber of beats in groove: 0\nGroove: 1 positions\n0\n", ">= 1"),
        ("Version: 0\nNumber of beats in groove: 257\nGroove: 1 positions\n0\n", "longer"),
        ("Version: 0\nNumber of beats in groove: 4\nGroove: 3 positions\n0\n1\n", "says 3"),
        ("Version: 0\nNumber of beats in groove: 4\nGroove: 1 positions\n0\n1\n", "has 2"),
        ("Version: 1\nNumber of beats in groove: 4\nGroove: 2 positions\n0 1\n1\n", "says 2"),
        ("Version: 0\nNumber of beats in groove: 4\nGroove: 2 positions\n0\nx\n", ":5: position"),
        ("Version: 0\nNumber of beats in groove: 4\nGroove: 2 positions\n0\n1.#INF\n", ":5:"),
        ("Version: 0\nNumber of beats in groove: 4\nGroove: 2 positions\n0\nnan\n", "finite"),
        # Python's float() takes these; no C++ stream writes them
        ("Version: 0\nNumber of beats in groove: 1\nGroove: 2 positions\n0\n0.5_7\n", ":5:"),
        ("Version: 0\nNumber of beats in groove: 1\nGroove: 2 positions\n0\n\uff10.5\n", ":5:"),
        ("Version: 1\nNumber of beats in groove: 1\nGroove: 1 positions\n0 1_0\n", "not a number"),
        ("Version: 0\nNumber of beats in groove: 1\nGroove: 2 positions\n0\n-inf\n", "finite"),
        ("Version: 1\nNumber of beats in groove: 4\nGroove: 1 positions\n0 7\n", "amplitude"),
    ],
)
def test_bad_text(tmp_path, text, words):
    assert words in _bad(tmp_path, text)


def test_binary_and_huge_files(tmp_path):
    path = tmp_path / "bin.rgt"
    path.write_bytes(b"Version: 0\x00\x01\x02")
    with pytest.raises(PresetError, match="binary"):
        read(path)
    path.write_bytes(b"Version: 0\n" + b"0\n" * (1 << 20))
    with pytest.raises(PresetError, match="larger than"):
        read(path)
