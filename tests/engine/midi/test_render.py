"""engine.midi.render against the independent reference, on real and edge-case files."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import numpy as np
import pytest

import groove
from engine.midi import midifile
from engine.midi.midifile import MidiFileError
from engine.midi.render import render, render_file, render_with_stats
from engine.presets.model import Amounts, Lane, Preset

from . import midi_reference as ref

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "data" / "midi"
SHARED = HERE.parents[2] / ".." / "shared" / "data"
GMD = SHARED / "gmd"
EDGE = SHARED / "midi-edge"


def gmd_sample(n=20):
    if not GMD.is_dir():
        return []
    files = sorted(GMD.rglob("*.mid"))
    return files[:: max(len(files) // n, 1)][:n]


def edge_files():
    if not EDGE.is_dir():
        return []
    return sorted(
        p
        for p in EDGE.rglob("*")
        if p.is_file() and p.suffix.lower() in (".mid", ".midi", ".kar", ".syx")
    )


needs_gmd = pytest.mark.skipif(not GMD.is_dir(), reason=f"shared data absent: {GMD}")
needs_edge = pytest.mark.skipif(not EDGE.is_dir(), reason=f"shared data absent: {EDGE}")

SWING = groove.swing(58)
CASES = [
    dict(),
    dict(timing=0.7, ends="keep"),
    dict(quantize=0.5),
    dict(resolution=96, only_notes=True),
]


def _check_against_reference(mid, **kw):
    out = render(mid, SWING, **kw)
    exp = ref.expected(
        mid,
        ref.LinearGroove.swing(58),
        timing=kw.get("timing", 1),
        quantize=kw.get("quantize", 0),
        ends=kw.get("ends", "groove"),
        tpb_out=kw.get("resolution"),
        only_notes=kw.get("only_notes", False),
    )
    problems = ref.compare(exp, ref.observed(out))
    assert not problems, problems[:5]
    return out


def mido_bytes(mid):
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


@needs_gmd
@pytest.mark.parametrize("path", gmd_sample(), ids=lambda p: p.name)
def test_gmd_matches_reference(path):
    mid = midifile.read(path)
    for kw in CASES:
        _check_against_reference(mid, **kw)


@needs_gmd
@pytest.mark.parametrize("path", gmd_sample(), ids=lambda p: p.name)
def test_gmd_zero_amounts_are_identity(path):
    mid = midifile.read(path)
    out = render(mid, SWING, timing=0)
    for a, b in zip(mid.tracks, out.tracks):
        assert list(a) == list(b)  # same messages, same delta times, same order
    assert mido_bytes(out) == mido_bytes(mid)


def test_fixture_matches_reference():
    mid = midifile.read(FIXTURES / "mixed.mid")
    for kw in CASES + [dict(quantize=1.0, timing=1.3)]:
        _check_against_reference(mid, **kw)


def test_fast_encoder_equals_mido_writer(tmp_path):
    for path in [
        FIXTURES / "mixed.mid",
        FIXTURES / "format2.mid",
        FIXTURES / "unknown-meta.mid",
        FIXTURES / "no-end-of-track.mid",
    ]:
        mid = midifile.read(path)
        for kw in CASES + [dict(random_ms=8, seed=3)]:
            render_file(path, tmp_path / "out.mid", SWING, **kw)
            assert (tmp_path / "out.mid").read_bytes() == mido_bytes(render(mid, SWING, **kw))


def test_input_is_not_modified():
    mid = midifile.read(FIXTURES / "mixed.mid")
    before = mido_bytes(mid)
    render(mid, SWING, quantize=1, velocity=0.5, random_ms=10)
    assert mido_bytes(mid) == before


def test_repairs_where_notes_moved():
    mid = midifile.read(FIXTURES / "mixed.mid")
    out, stats = render_with_stats(mid, SWING, quantize=1)
    assert stats.orphan_offs_dropped == 1 and stats.unended_closed == 1
    notes, orphans = ref.pair(ref.absolute(out)[1])
    assert not orphans and all(n["end"] is not None and n["end"] > n["start"] for n in notes)
    by_key = {}
    for n in notes:
        by_key.setdefault((n["channel"], n["pitch"]), []).append(n)
    for group in by_key.values():
        group.sort(key=lambda n: n["start"])
        assert all(a["end"] <= b["start"] for a, b in zip(group, group[1:]))  # no overlap


def test_zero_amounts_keep_problems_as_they_were():
    mid = midifile.read(FIXTURES / "mixed.mid")
    out, stats = render_with_stats(mid, SWING, timing=0, velocity=0.5)
    assert stats.orphan_offs_kept == 1 and stats.unended_kept == 1
    assert stats.orphan_offs_dropped == 0 and stats.unended_closed == 0
    assert [m.time for m in out.tracks[1]] == [m.time for m in mid.tracks[1]]


def test_off_before_on_at_one_tick():
    # two back-to-back 16ths of one pitch; quantize makes the first end where the next starts
    t = mido.MidiTrack()
    t += [
        mido.Message("note_on", note=40, velocity=90, time=3),
        mido.Message("note_on", note=40, velocity=91, time=117),
        mido.Message("note_off", note=40, time=3),
        mido.Message("note_off", note=40, time=100),
    ]
    mid = mido.MidiFile(ticks_per_beat=480, tracks=[t])
    out = render(mid, groove.straight(), quantize=1)
    rows = [(tick, m.type, getattr(m, "velocity", None)) for tick, m in ref.absolute(out)[0]]
    assert rows[:4] == [
        (0, "note_on", 90),
        (120, "note_off", 64),
        (120, "note_on", 91),
        (223, "note_off", 64),
    ]


def played_file(seed=0, n=200, tpb=480):
    """A file of non-overlapping notes at random ticks on 4 pitches, with CCs."""
    rng = np.random.default_rng(seed)
    rows = []
    for pitch in (36, 38, 42, 46):
        starts = np.cumsum(rng.integers(20, 400, n // 4))
        for s in starts:
            length = int(rng.integers(1, 20))
            rows += [
                (int(s), mido.Message("note_on", channel=9, note=pitch, velocity=80)),
                (int(s) + length, mido.Message("note_off", channel=9, note=pitch)),
            ]
    rows += [
        (int(t), mido.Message("control_change", channel=9, control=4, value=int(t) % 128))
        for t in rng.integers(0, 20000, 30)
    ]
    return mido.MidiFile(ticks_per_beat=tpb, tracks=[ref_track(rows)])


def ref_track(rows):
    track, now = mido.MidiTrack(), 0
    for tick, msg in sorted(rows, key=lambda r: r[0]):
        track.append(msg.copy(time=tick - now))
        now = tick
    return track


def test_inverse_undoes_a_render():
    mid = played_file()
    want = ref.observed(mid)[0]
    for g in (groove.swing(66), groove.template([0, 0.2, -0.1, 0.3], period=1, interp="pchip")):
        back = ref.observed(render(render(mid, g), g, inverse=True))[0]
        for key, notes in want["notes"].items():
            got = sorted(back["notes"][key])
            assert len(got) == len(notes)
            for a, b in zip(got, sorted(notes)):
                assert abs(a[0] - b[0]) <= 1 and abs(a[1] - b[1]) <= 1
        assert (
            np.abs(
                np.array([t for t, _ in back["channel"]])
                - np.array([t for t, _ in want["channel"]])
            ).max()
            <= 1
        )


@needs_gmd
def test_inverse_round_trip_on_gmd_starts():
    for path in gmd_sample(6):
        mid = midifile.read(path)
        back = render(render(mid, SWING), SWING, inverse=True)
        a = [n["start"] for n in ref.pair(ref.absolute(mid)[0])[0]]
        b = [n["start"] for n in ref.pair(ref.absolute(back)[0])[0]]
        assert len(a) == len(b)
        assert np.abs(np.sort(a) - np.sort(b)).max() <= 1


def test_velocity_accents_per_lane():
    accents = [1.0, 0.5, 0.8, 0.25]
    tpl = groove.template([0, 0, 0, 0], period=1, velocity=accents)
    preset = Preset("p", groove.straight(), lanes=(Lane("hat", (42,), tpl),))
    t = mido.MidiTrack()
    for k in range(8):
        t += [
            mido.Message("note_on", note=42, velocity=100, time=0 if k == 0 else 60),
            mido.Message("note_on", note=36, velocity=100, time=0),
            mido.Message("note_off", note=42, time=60),
            mido.Message("note_off", note=36),
        ]
    out = render(mido.MidiFile(ticks_per_beat=480, tracks=[t]), preset, velocity=0.5)
    notes, _ = ref.pair(ref.absolute(out)[0])
    hats = [n["velocity"] for n in notes if n["pitch"] == 42]
    kicks = [n["velocity"] for n in notes if n["pitch"] == 36]
    assert hats == [round(100 * (1 + 0.5 * (a - 1))) for a in accents * 2]
    assert kicks == [100] * 8  # the main (straight) groove has full accents


def test_selection_moves_only_chosen_notes():
    mid = midifile.read(FIXTURES / "mixed.mid")
    out = render(mid, SWING, notes=[42], tracks=[1], channels=[9], only_notes=True)
    before, after = ref.observed(mid), ref.observed(out)
    assert after[2] == before[2]  # other track untouched
    assert after[1]["notes"][(9, 36)] == before[1]["notes"][(9, 36)]
    assert after[1]["notes"][(9, 42)] != before[1]["notes"][(9, 42)]


def test_random_offsets_belong_to_the_note():
    mid = midifile.read(FIXTURES / "mixed.mid")
    kw = dict(timing=0, random_ms=12, seed=7)
    all_notes = ref.observed(render(mid, SWING, **kw))[1]["notes"][(9, 42)]
    hats_only = ref.observed(render(mid, SWING, notes=[42], **kw))[1]["notes"][(9, 42)]
    assert all_notes == hats_only
    other_seed = ref.observed(render(mid, SWING, **dict(kw, seed=8)))[1]["notes"][(9, 42)]
    assert other_seed != all_notes
    # 12 ms clipped at 2.5 sigma = 30 ms; at 120 BPM that is 28.8 ticks
    orig = ref.observed(mid)[1]["notes"][(9, 42)]
    assert max(abs(a[0] - b[0]) for a, b in zip(all_notes, orig)) <= 29


def test_preset_amounts_are_defaults_and_overrides_win():
    mid = midifile.read(FIXTURES / "mixed.mid")
    preset = Preset.from_groove(SWING, amounts=Amounts(timing=0.0))
    assert mido_bytes(render(mid, preset)) == mido_bytes(mid)
    assert mido_bytes(render(mid, preset, timing=1.0)) == mido_bytes(render(mid, SWING))


def test_bad_options_are_refused():
    mid = midifile.read(FIXTURES / "mixed.mid")
    for kw in (
        dict(timing=2),
        dict(ends="both"),
        dict(resolution=0),
        dict(quantize=-1),
        dict(seed=-1),
    ):
        with pytest.raises(ValueError):
            render(mid, SWING, **kw)
    with pytest.raises(TypeError):
        render(mid, SWING, swing=3)


@needs_edge
@pytest.mark.parametrize("path", edge_files(), ids=lambda p: str(p.relative_to(EDGE)))
def test_edge_corpus_renders_or_fails_cleanly(path, tmp_path):
    """Every file either renders to a readable file or fails with one line naming it."""
    out_path = tmp_path / "out.mid"
    try:
        render_file(path, out_path, SWING, random_ms=3, quantize=0.2)
    except MidiFileError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        assert not out_path.exists()
        return
    mid = midifile.read(path)
    data = out_path.read_bytes()
    back = midifile.read(out_path)
    assert len(back.tracks) == len(mid.tracks)
    if len(mid.tracks) < 32768:  # mido reads the track count as a signed 16-bit number
        assert len(mido.MidiFile(out_path).tracks) == len(mid.tracks)
        # straight from bytes to bytes == what mido writes for render()'s messages
        assert data == mido_bytes(render(mid, SWING, random_ms=3, quantize=0.2))
    if len(mid.tracks) < 70000 and sum(len(t) for t in mid.tracks) < 20000:
        _check_against_reference(mid)
