"""Ableton Live .agr grooves: Live 9 and Live 11 layouts, gzip and plain, and bad files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import groove
from engine.presets import PresetError, load
from engine.presets.daw import preset_text, read
from tests.engine.presets.daw_files import agr_xml, swing_points, write_agr

LAYOUTS = [
    pytest.param(
        live11, compress, id=f"{'live11' if live11 else 'live9'}-{'gzip' if compress else 'plain'}"
    )
    for live11 in (False, True)
    for compress in (True, False)
]


@pytest.mark.parametrize("live11, compress", LAYOUTS)
def test_swing_57_is_swing_57(tmp_path, live11, compress):
    path = write_agr(
        tmp_path / "Swing 16ths 57.agr",
        [(t, 100) for t in swing_points(57, 0.25, 4)],
        compress=compress,
        live11=live11,
    )
    preset = load(path)
    assert preset.groove == groove.swing(57)
    x = np.linspace(0, 8, 257)
    np.testing.assert_array_equal(preset.groove.forward(x), groove.swing(57).forward(x))
    (item,) = read(path)
    assert item.name == "Swing-16ths-57"
    assert ("gzip" if compress else "plain") in item.header[1]


@pytest.mark.parametrize("live11, compress", LAYOUTS)
def test_grid_note_lands_on_groove_note(tmp_path, live11, compress):
    rng = np.random.default_rng(12 + live11 + 2 * compress)
    for trial in range(20):
        grid_index = int(rng.integers(0, 6))
        grid = ("1/4", "1/8", "1/8t", "1/16", "1/16t", "1/32")[grid_index]
        step = float(groove.grid_step_beat(grid))
        n = int(round(4 / step))
        steps = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))
        # a groove note within half a step of its grid step (late half-steps included)
        offsets = rng.uniform(-0.49, 0.5, steps.size)
        times = (steps + offsets) * step % 4
        path = write_agr(
            tmp_path / f"g{trial}.agr",
            [(repr(float(t)), 90) for t in times],
            grid=grid_index,
            live11=live11,
            compress=compress,
        )
        g = load(path).groove
        landed = g.forward(steps * step)
        expect = (steps + offsets) * step
        np.testing.assert_allclose(landed, expect, rtol=0, atol=1e-9)
        # steps without a groove note stay where they are
        empty = np.setdiff1d(np.arange(n), steps)
        np.testing.assert_allclose(g.forward(empty * step), empty * step, rtol=0, atol=1e-12)


def test_a_note_on_the_grid_moves_nothing(tmp_path):
    path = write_agr(tmp_path / "g.agr", [(0, 127), (1, 127), (2.5, 127)])
    g = load(path).groove
    assert g.is_identity


def test_loop_not_current_end_is_the_period(tmp_path):
    notes = [(0, 127), (0.55, 127), (1, 127), (1.5, 127), (2, 127), (2.6, 127), (3, 127)]
    path = write_agr(tmp_path / "g.agr", notes, grid=1, current_end=1, loop=(0, 4))
    (item,) = read(path)
    assert item.fields["period"] == 4 and item.fields["grid"] == "1/8"
    assert item.fields["offsets"][1] == pytest.approx(0.1) and item.fields["offsets"][5] == 0.2


def test_loop_start_is_the_groove_start(tmp_path):
    notes = [(t + 8, 100) for t in swing_points(60, 0.5, 4)]
    path = write_agr(tmp_path / "g.agr", notes, grid=1, loop=(8, 12))
    assert load(path).groove == groove.swing(60, "1/8")


def test_amounts_are_mapped(tmp_path):
    path = write_agr(tmp_path / "g.agr", [(0, 127), (0.3, 64)], amounts=(25, 80, 50, -40))
    (item,) = read(path)
    f = item.fields
    assert f["quantize"] == 0.25 and f["timing"] == 0.8 and f["velocity_amount"] == -0.4
    assert f["random"] == {"time_ms": 5.0}
    a = load(path).amounts
    assert (a.quantize, a.timing, a.velocity, a.random_ms) == (0.25, 0.8, -0.4, 5.0)
    assert any("Random 50%" in line for line in item.header)


def test_velocities_are_accents_relative_to_the_loudest(tmp_path):
    path = write_agr(tmp_path / "g.agr", [(0, 100), (0.25, 50), (0.5, 100), (0.75, 25)])
    (item,) = read(path)
    assert item.fields["velocity"][:4] == [1.0, 0.5, 1.0, 0.25]
    assert item.fields["velocity"][4:8] == [1.0] * 4  # steps without a note keep velocity
    assert len(item.fields["velocity"]) == 16


def test_disabled_notes_and_notes_outside_the_loop_are_skipped(tmp_path):
    notes = [(0, 127), (0.3, 127, False), (5.0, 127)]
    (item,) = read(write_agr(tmp_path / "g.agr", notes))
    assert item.fields["offsets"] == [0.0]
    text = " ".join(item.warnings)
    assert "1 disabled" in text and "outside the loop" in text


def test_two_notes_on_one_step_keep_the_nearer(tmp_path):
    (item,) = read(write_agr(tmp_path / "g.agr", [(0.3, 127), (0.26, 127)], grid=3))
    assert item.fields["offsets"][1] == pytest.approx(0.04)
    assert any("kept 0.26" in w for w in item.warnings)


def test_grid_option_overrides_the_base_grid(tmp_path):
    path = write_agr(tmp_path / "g.agr", [(t, 100) for t in swing_points(57, 0.25, 4)], grid=1)
    (item,) = read(path, grid="1/16")
    assert item.fields["grid"] == "1/16" and item.fields["offsets"] == [0.0, 0.14]


def test_text_has_the_header_and_loads(tmp_path):
    path = write_agr(tmp_path / "g.agr", [(0, 127), (0.3, 64)], amounts=(0, 70, 0, 30))
    (item,) = read(path)
    text = preset_text(item, "g")
    assert text.startswith("# Imported from ") and "Ableton Live groove" in text
    assert "name: g\n" in text and "kind: template" in text


# -- bad files ------------------------------------------------------------------


def _bad(tmp_path, data: bytes, name="bad.agr"):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(PresetError) as info:
        read(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


def test_not_an_ableton_groove(tmp_path):
    assert "not an Ableton groove" in _bad(tmp_path, b"<plot><axis/></plot>")
    xml = agr_xml([(0, 100)]).replace("<Groove>", "<Grooove>").replace("</Groove>", "</Grooove>")
    assert "without a <Groove>" in _bad(tmp_path, xml.encode())
    assert "not XML" in _bad(tmp_path, b"grammar: S -> NP VP\n")


def test_old_binary_groove_is_refused_with_a_reason(tmp_path):
    message = _bad(tmp_path, b"ab1\x00\x00\x00\x10\x02Groove\x00\xff\xfe" * 8)
    assert "older binary" in message and "save it again" in message


def test_utf16_and_other_binary_is_not_called_the_old_format(tmp_path):
    utf16 = agr_xml([(0, 100)]).encode("utf-16")
    for data in (utf16, b"\x00\x01\x02 not a groove", gzip.compress(utf16)):
        message = _bad(tmp_path, data)
        assert "not an Ableton groove" in message and "older binary" not in message


def test_truncated_gzip(tmp_path):
    data = gzip.compress(agr_xml([(0, 100)]).encode())
    assert "truncated" in _bad(tmp_path, data[: len(data) // 2])
    assert "corrupt" in _bad(tmp_path, data[:10] + b"\x00" * 40)


def test_entity_expansion_is_refused(tmp_path):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<Ableton><Groove>&lol2;</Groove></Ableton>"
    )
    message = _bad(tmp_path, bomb)
    assert "DTD" in message or "entities" in message
    assert "DTD" in _bad(tmp_path, gzip.compress(bomb))


def test_files_over_the_size_cap(tmp_path):
    assert "larger than" in _bad(tmp_path, b"<" + b" " * (5 << 20))
    # a gzip bomb: small on disk, huge once expanded
    assert "expands to more than" in _bad(tmp_path, gzip.compress(b" " * (20 << 20)))


@pytest.mark.parametrize(
    "change, words",
    [
        (('Time="0.3"', 'Time="abc"'), "not a number"),
        (('Time="0.3"', 'Time="nan"'), "not a finite number"),
        (('Velocity="64"', 'Velocity="inf"'), "not a finite number"),
        (('Velocity="64"', 'Velocity="300"'), "outside 0..127"),
        (('<Grid Value="3" />', '<Grid Value="7" />'), "not a Live base grid"),
        (('<Grid Value="3" />', ""), "Grid is missing"),
        (('<LoopEnd Value="4" />', '<LoopEnd Value="300" />'), "longer than"),
        (('<LoopEnd Value="4" />', '<LoopEnd Value="67" />'), "does not repeat within 64"),
        (('Time="0.3"', 'Time="0.3_1"'), "not a number"),
        (('<LoopEnd Value="4" />', '<LoopEnd Value="0" />'), "length > 0"),
        (('<LoopEnd Value="4" />', '<LoopEnd Value="3.9" />'), "not a whole number"),
        (('<LoopEnd Value="4" />', ""), "no loop"),
        (('<TimingAmount Value="100" />', '<TimingAmount Value="250" />'), "outside 0..100"),
        (('<VelocityAmount Value="0" />', '<VelocityAmount Value="x" />'), "not a number"),
    ],
)
def test_bad_values(tmp_path, change, words):
    xml = agr_xml([(0, 127), ("0.3", 64)])
    assert change[0] in xml
    assert words in _bad(tmp_path, xml.replace(*change).encode())


def test_no_notes(tmp_path):
    assert "no (enabled) notes" in _bad(tmp_path, agr_xml([(0, 100, False)]).encode())
    assert "inside its loop" in _bad(tmp_path, agr_xml([(9, 100)]).encode())
