"""Round trips: preset -> DAW file -> preset gives the same curve, through every format."""

from __future__ import annotations

import numpy as np
import pytest

import groove
from engine.presets import PresetError, load, loads
from engine.presets.daw import preset_text, read
from engine.presets.daw.export import FORMATS, SUFFIX, export
from engine.presets.lookup import preset_files
from engine.presets.model import Amounts, Preset

TOL_BEAT = 1e-6


def _same_curve(a, b, periods=3):
    span = periods * max(a.period_beat, b.period_beat)
    x = np.linspace(-span, span, 4001)
    err = np.max(np.abs(a.forward(x) - b.forward(x)))
    assert err <= TOL_BEAT, f"curves differ by {err:g} beats"
    return err


def _write(tmp_path, preset, to, name="out"):
    result = export(preset, to)
    path = tmp_path / f"{name}{SUFFIX[to]}"
    path.write_bytes(result.data)
    return path, result


def _grooves():
    yield "swing57-16", Preset.from_groove(groove.swing(57), "swing57")
    yield "swing62-8", Preset.from_groove(groove.swing(62, "1/8"), "swing62")
    yield "swing60-8t", Preset.from_groove(groove.swing(60, "1/8t"), "trip")
    yield "swing75-16", Preset.from_groove(groove.swing(75), "hard")
    # +0.5 of a triplet step: the written time rounds to just past the half step
    yield "swing75-8t", Preset.from_groove(groove.swing(75, "1/8t"), "tie")
    yield "swing75-16t", Preset.from_groove(groove.swing(75, "1/16t"), "tie16")
    offsets = [0, 0.2, -0.1, 0.3, 0, 0.15, -0.2, 0.4]
    velocity = [1, 0.5, 0.8, 0.6, 1, 0.4, 0.9, 0.7]
    yield (
        "template",
        Preset.from_groove(
            groove.template(offsets, grid="1/16", period=2, velocity=velocity), "tmpl"
        ),
    )
    blend = groove.blend(
        [(groove.swing(58), 2), (groove.template([0, 0.1, -0.2, 0], "1/8", period=2), 1)]
    )
    yield "blend", Preset.from_groove(blend, "mix")
    yield "straight", Preset.from_groove(groove.straight("1/16"), "straight")
    # the downbeat early: its point is written at the end of the file's period
    early = groove.template([-0.2, 0.1, 0, 0.3, -0.45, 0.5], grid="1/8t", period=2)
    yield "early-downbeat", Preset.from_groove(early, "early")


GROOVES = list(_grooves())


@pytest.mark.parametrize("to", FORMATS)
@pytest.mark.parametrize("name, preset", GROOVES, ids=[g[0] for g in GROOVES])
def test_export_then_import_is_the_same_curve(tmp_path, name, preset, to):
    path, result = _write(tmp_path, preset, to)
    assert result.max_error_beat <= 1e-9
    accents_lost = to == "tracktion" and name == "template"
    assert result.warnings == (
        ["velocity accents dropped: Tracktion templates hold timing only"] if accents_lost else []
    )
    back = load(path)
    _same_curve(back.groove, preset.groove)
    if to != "tracktion":  # accents: Tracktion templates hold timing only
        x = np.arange(0, 8, preset.groove.grid_beat)
        np.testing.assert_allclose(back.groove.accent(x), preset.groove.accent(x), atol=1e-9)


@pytest.mark.parametrize("to", ["agr", "rgt"])
def test_swing_57_comes_back_as_swing_57(tmp_path, to):
    path, _ = _write(tmp_path, Preset.from_groove(groove.swing(57)), to)
    assert load(path).groove == groove.swing(57)


def test_through_every_format_and_yaml(tmp_path):
    preset = load("funk-16")
    start = preset.groove
    for i, to in enumerate(FORMATS * 2):
        path, _ = _write(tmp_path, preset, to, name=f"step{i}")
        (item,) = read(path)
        yaml_path = tmp_path / f"step{i}.yaml"
        yaml_path.write_text(preset_text(item, f"step{i}"))
        preset = load(yaml_path)
        _same_curve(preset.groove, start)


def test_every_shipped_preset_exports(tmp_path):
    for name, _, _ in preset_files():
        preset = load(name)
        for to in FORMATS:
            try:
                path, result = _write(tmp_path, preset, to, name=f"{name}-{to}")
            except PresetError as exc:  # a move of half a step or more: said plainly
                assert "more than half" in str(exc) or "--approximate" in str(exc)
                if "more than half" in str(exc):
                    continue
                result = export(preset, to, approximate=True)
                path = tmp_path / f"{name}-{to}{SUFFIX[to]}"
                path.write_bytes(result.data)
            back = load(path)
            if result.max_error_beat <= 1e-9:
                _same_curve(back.groove, preset.groove)
            else:
                assert any("largest error" in w for w in result.warnings)
                x = np.linspace(0, preset.groove.period_beat, 2001)
                err = np.max(np.abs(back.groove.forward(x) - preset.groove.forward(x)))
                assert err <= result.max_error_beat * 1.01 + 1e-12


def test_lanes_fold_into_the_main_curve_with_a_warning(tmp_path):
    preset = load("funk-16")
    assert preset.lanes
    for to in FORMATS:
        _, result = _write(tmp_path, preset, to)
        assert any("folded into the main curve" in w for w in result.warnings)


def test_pchip_is_approximated_with_its_error(tmp_path):
    preset = Preset.from_groove(
        groove.template([0, 0.1, 0, -0.08], grid="1/8", period=2, interp="pchip")
    )
    path, result = _write(tmp_path, preset, "rgt")
    # the finest grid the moves fit on: the straight lines hug the curve closest
    assert result.grid == "1/32" and 1e-6 < result.max_error_beat < 0.002
    assert "largest error" in result.warnings[0]
    x = np.linspace(0, 2, 801)
    err = np.max(np.abs(load(path).groove.forward(x) - preset.groove.forward(x)))
    assert err <= result.max_error_beat * 1.01


def test_a_move_of_more_than_half_a_step_is_refused():
    # beat 1 moves 0.9 beat: more than half a step of every grid it lies on
    preset = Preset.from_groove(groove.template([0, 0.9, 0, 0], grid="1/4", period=4))
    for to in FORMATS:
        with pytest.raises(PresetError, match="more than half"):
            export(preset, to)


def test_a_hard_swing_is_refused_unless_approximate():
    # 80 % moves the off-beat 16th by 0.6 of a step: no 16th-based grid holds it
    preset = Preset.from_groove(groove.swing(80))
    for to in ("agr", "rgt"):
        with pytest.raises(PresetError, match="--approximate") as info:
            export(preset, to)
        assert "1/8t" in str(info.value) and "0.1 beats" in str(info.value)
    result = export(preset, "rgt", approximate=True)
    assert result.grid == "1/8t" and result.max_error_beat > 0.01
    assert "largest error" in result.warnings[0]


def test_a_triplet_swing_has_no_live_grid_finer_than_its_error():
    # Live has no 1/32t: the best it can do is 1/32, 0.027 beats off
    with pytest.raises(PresetError, match="--approximate"):
        export(Preset.from_groove(groove.swing(75, "1/32t")), "agr")


@pytest.mark.parametrize("grid", ["1/8t", "1/16t", "1/32t"])
@pytest.mark.parametrize("period", [4, 16, 64])
def test_half_step_offsets_come_back(tmp_path, grid, period):
    n = int(period / groove.grid_step_beat(grid))
    offsets = [0.1 if k % 4 == 2 else (0.5 if k % 2 else 0.0) for k in range(n)]
    preset = Preset.from_groove(groove.template(offsets, grid=grid, period=period), "tie")
    path, result = _write(tmp_path, preset, "rgt")
    assert result.grid == grid and result.max_error_beat <= 1e-9
    _same_curve(load(path).groove, preset.groove)


def test_a_period_written_as_more_whole_beats_than_a_preset_holds(tmp_path):
    # 33.5 beats repeats only every 67 whole beats, which is what .agr and .rgt get
    offsets = [0.1 * (k % 2) for k in range(67)]
    preset = Preset.from_groove(groove.template(offsets, grid="1/8", period=33.5), "long")
    for to in FORMATS:
        path, result = _write(tmp_path, preset, to)
        assert result.period_beat == (33.5 if to == "tracktion" else 67)
        back = load(path)
        assert back.groove.period_beat == 33.5
        _same_curve(back.groove, preset.groove)


def test_a_period_whose_whole_beats_no_import_reads_is_refused(tmp_path):
    # 63.125 beats repeats only every 505 whole beats: refused, not written unreadable
    offsets = [0.2 * (k % 3 == 1) for k in range(505)]
    preset = Preset.from_groove(groove.template(offsets, grid="1/32", period=63.125))
    for to in ("agr", "rgt"):
        with pytest.raises(PresetError, match="repeats only after 505 whole beats"):
            export(preset, to)
    path, _ = _write(tmp_path, preset, "tracktion")  # cells, not whole beats
    _same_curve(load(path).groove, preset.groove)


def test_soft_accents_are_written_relative_to_the_loudest_with_a_warning(tmp_path):
    preset = Preset.from_groove(
        groove.template([0, 0.1], grid="1/8", period=1, velocity=[0.5, 0.25]), "soft"
    )
    for to in ("agr", "rgt"):
        path, result = _write(tmp_path, preset, to)
        (warning,) = [w for w in result.warnings if "loudest" in w]
        assert "loudest accent is 0.5" in warning and "scaled by 2" in warning
        back = load(path).groove  # 0.25 relative to 0.5
        assert (back.accent(0.0), back.accent(0.5)) == (1.0, 0.5)


def test_live_amounts_round_trip(tmp_path):
    amounts = Amounts(timing=0.8, quantize=0.25, velocity=-0.5, random_ms=4.0)
    preset = Preset.from_groove(groove.swing(58), "s", amounts)
    path, result = _write(tmp_path, preset, "agr")
    a = load(path).amounts
    assert (a.timing, a.quantize, a.velocity, a.random_ms) == (0.8, 0.25, -0.5, 4.0)
    _, result = _write(tmp_path, preset, "rgt")
    assert any("holds no amounts" in w for w in result.warnings)


def test_blend_part_can_be_a_daw_file(tmp_path):
    path, _ = _write(tmp_path, Preset.from_groove(groove.swing(60)), "rgt", name="sw")
    mix = loads(
        f"kind: blend\nof:\n  - {{groove: {path}, weight: 1}}\n  - {{groove: straight}}\n",
    )
    _same_curve(mix.groove, groove.blend([(groove.swing(60), 1), (groove.straight(), 1)]))


def test_groove_load_reads_daw_files(tmp_path):
    path, _ = _write(tmp_path, Preset.from_groove(groove.swing(66, "1/8")), "tracktion", "t")
    _same_curve(groove.load(path).groove, groove.swing(66, "1/8"))
    _same_curve(groove.load(str(path)).groove, groove.swing(66, "1/8"))


def test_live_export_is_a_gzipped_live_11_document_with_a_note_per_step():
    import gzip
    import xml.etree.ElementTree as ET

    result = export(load("funk-16"), "agr")
    assert result.data[:2] == b"\x1f\x8b"
    root = ET.fromstring(gzip.decompress(result.data))
    assert root.tag == "Ableton" and root.get("Creator", "").startswith("Ableton Live 11")
    clip = root.find("Groove/Clip/Value/MidiClip")
    assert clip.find("Loop/LoopEnd").get("Value") == "4"
    notes = clip.findall("Notes/KeyTracks/KeyTrack/Notes/MidiNoteEvent")
    assert len(notes) == 16  # one per 1/16 step of the 4-beat bar
    ids = [n.get("NoteId") for n in notes]
    assert len(set(ids)) == 16 and all(n.get("Probability") == "1" for n in notes)
    assert root.find("Groove/Grid").get("Value") == "3"
    times = [float(n.get("Time")) for n in notes]
    assert times == sorted(times) and 0 <= times[0] and times[-1] < 4
