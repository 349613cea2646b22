"""Tracktion groove templates against Tracktion's own map, and bad files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.presets import PresetError, load
from engine.presets.daw import read
from tests.engine.presets.daw_files import write_tracktion


def tracktion_groovy_beats(beats: float, latenesses, notes_per_beat: int, strength=1.0):
    """``GrooveTemplate::beatsTimeToGroovyTime`` of tracktion_GrooveTemplate.cpp, step by step.

    ``latenesses`` is Tracktion's Array<float> (an index past its end reads 0);
    ``numNotes`` is its length here.
    """
    lat = [float(np.float32(v)) for v in latenesses]
    num_notes = len(lat)

    def at(i):
        return lat[i] if 0 <= i < num_notes else 0.0

    beat_num = math.floor(beats * notes_per_beat)
    offset = notes_per_beat * (beats - beat_num / notes_per_beat)
    index = int(round(beat_num)) % num_notes
    lateness = at(index) * strength
    t1 = beat_num + 0.5 * lateness
    t2_minus_t1 = 1.0 + 0.5 * (at((index + 1) % num_notes) * strength - lateness)
    return (t1 + offset * t2_minus_t1) / notes_per_beat


TEMPLATES = [
    ("Basic 8th Swing", 2, 2, 1, ["0.0", "0.66"]),
    ("Basic 16th Swing", 2, 4, 1, ["0.0", "0.66"]),
    ("Push", 8, 4, 0, ["0", "-0.2", "0.1", "0.35", "-0.05", "0.5", "-1", "1"]),
    ("Triplets", 6, 3, 0, ["0", "0.25", "-0.25", "0.1", "0", "0.3"]),
    ("Sextuplets", 12, 6, 1, [f"{0.1 * (k % 3):.1f}" for k in range(12)]),
    ("Thirtyseconds", 16, 8, 0, [f"{(-1) ** k * 0.3:.2f}" for k in range(16)]),
]


@pytest.mark.parametrize("wrapper", [True, False], ids=["wrapped", "alone"])
@pytest.mark.parametrize("template", TEMPLATES, ids=[t[0] for t in TEMPLATES])
def test_matches_tracktions_formula(tmp_path, template, wrapper):
    path = write_tracktion(tmp_path / "g.xml", [template], wrapper=wrapper)
    g = load(path).groove
    _, n, per_beat, _, deltas = template
    x = np.linspace(0.0, 3 * n / per_beat, 997)
    ref = [tracktion_groovy_beats(b, [float(d) for d in deltas], per_beat) for b in x]
    # Tracktion keeps deltas as float32: 0.66 is 0.66 to 2e-8
    np.testing.assert_allclose(g.forward(x), ref, rtol=0, atol=1e-7)


def test_strength_of_a_parameterized_template_is_the_timing_amount(tmp_path):
    path = write_tracktion(tmp_path / "g.xml", [TEMPLATES[1]])
    g = load(path).groove.scaled(0.4)
    x = np.linspace(0, 2, 101)
    ref = [tracktion_groovy_beats(b, [0.0, 0.66], 4, strength=0.4) for b in x]
    np.testing.assert_allclose(g.forward(x), ref, rtol=0, atol=1e-7)
    (item,) = read(path)
    assert "parameterized 1" in item.header[2]


def test_several_templates_become_several_presets(tmp_path):
    path = write_tracktion(tmp_path / "all.xml", TEMPLATES[:3] + [TEMPLATES[0]])
    items = read(path)
    assert [i.name for i in items] == [
        "Basic-8th-Swing",
        "Basic-16th-Swing",
        "Push",
        "Basic-8th-Swing-2",
    ]
    with pytest.raises(PresetError, match="holds 4 groove templates"):
        load(path)


def test_missing_shifts_read_as_zero_and_deltas_clamp(tmp_path):
    path = write_tracktion(tmp_path / "g.xml", [("short", 8, 4, 0, ["- 0.5", "1.5", "0.2"])])
    (item,) = read(path)
    assert item.fields["offsets"] == [-0.25, 0.5, 0.1, 0, 0, 0, 0, 0]
    assert any("clamped to [-1, 1]" in w for w in item.warnings)


def test_counts_clamp_as_tracktion_does(tmp_path):
    path = write_tracktion(tmp_path / "g.xml", [("one", 1, 12, 0, ["0.5"])])
    (item,) = read(path)
    assert item.fields["grid"] == "1/32" and len(item.fields["offsets"]) == 2
    assert sum("clamped" in w for w in item.warnings) == 2


def test_defaults_when_attributes_are_missing(tmp_path):
    (tmp_path / "g.xml").write_text(
        '<GROOVETEMPLATE name="d"><SHIFT delta="0.2"/></GROOVETEMPLATE>'
    )
    (item,) = read(tmp_path / "g.xml")
    assert item.fields["grid"] == "1/8" and len(item.fields["offsets"]) == 16


def test_a_name_that_is_no_preset_name_falls_back_to_the_file_name(tmp_path):
    path = write_tracktion(tmp_path / "my grooves.xml", [("!!!", 2, 2, 1, ["0", "0.3"])])
    (item,) = read(path)
    assert item.name == "my-grooves"
    assert load(path).groove.forward(0.5) == 0.575


@pytest.mark.parametrize(
    "raw, expect", [("1", 1), ("yes", 1), ("true", 1), (" Y", 1), ("T", 1), ("0", 0), ("no", 0)]
)
def test_parameterized_reads_as_juce_reads_a_bool(tmp_path, raw, expect):
    # juce::XmlElement::getBoolAttribute: the first non-blank character is 1, t, T, y or Y
    path = write_tracktion(tmp_path / "g.xml", [("p", 2, 2, raw, ["0", "0.3"])])
    (item,) = read(path)
    assert f"parameterized {expect}" in item.header[2]


def _bad(tmp_path, text):
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(PresetError) as info:
        read(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


@pytest.mark.parametrize(
    "text, words",
    [
        ("<svg><g/></svg>", "not a Tracktion groove template"),
        ("<GROOVETEMPLATES></GROOVETEMPLATES>", "holds no"),
        ("<GROOVETEMPLATE numberOfNotes='4' notesPerBeat='5'/>", "has no grid"),
        ("<GROOVETEMPLATE numberOfNotes='4' notesPerBeat='7'/>", "has no grid"),
        ("<GROOVETEMPLATE numberOfNotes='1024' notesPerBeat='8'/>", "longer than a preset"),
        ("<GROOVETEMPLATE numberOfNotes='x'/>", "not a number"),
        ("<GROOVETEMPLATE numberOfNotes='2.5'/>", "whole number"),
        ("<GROOVETEMPLATE><SHIFT delta='nan'/></GROOVETEMPLATE>", "finite"),
        ("<GROOVETEMPLATE><SHIFT delta='abc'/></GROOVETEMPLATE>", "not a number"),
        ("<GROOVETEMPLATE><SHIFT delta='0.2_5'/></GROOVETEMPLATE>", "not a number"),
        ("<GROOVETEMPLATE numberOfNotes='1_6'/>", "not a number"),
        ("<GROOVETEMPLATE><SHIFT delta='0.1'/>", "not well-formed"),
        (
            '<?xml version="1.0"?><!DOCTYPE g [<!ENTITY e "x">]><GROOVETEMPLATE name="&e;"/>',
            "DTD",
        ),
    ],
)
def test_bad_files(tmp_path, text, words):
    assert words in _bad(tmp_path, text)
