"""The live kernel's timing chain against slow references (issue 11, priority 1)."""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groove
from engine.host.processors import (
    GrooveProcessor,
    HumanizeProcessor,
    QuantizeProcessor,
)
from engine.presets import load as load_preset
from groove.transform import CLIP_SIGMA, STREAM_TIMING, note_noise, quantize_beat

from .live_kernel_harness import SR, fpb, kernel, notes_of, out_frame, run, start_row

BPM = 120.0
FPB = fpb(BPM)


def beat_frame(beat):
    return int(round(beat * FPB))


# -- pass-through --------------------------------------------------------------------
_ROW = st.one_of(
    st.tuples(
        st.sampled_from([0x80, 0x90, 0xA0, 0xB0, 0xE0]), st.integers(0, 127), st.integers(0, 127)
    ),
    st.tuples(st.sampled_from([0xC0, 0xD0]), st.integers(0, 127), st.just(0)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.integers(0, 4000), _ROW, st.integers(0, 15)), max_size=60),
    block=st.sampled_from([7, 64, 256, 1000]),
    playing=st.booleans(),
    with_groove=st.booleans(),
)
def test_straight_groove_and_no_processors_pass_input_through_exactly(
    rows, block, playing, with_groove
):
    procs = [GrooveProcessor(groove.straight())] if with_groove else []
    kern = kernel(procs)
    assert kern.latency_frame == 0
    events = sorted(((f, kind | ch, d1, d2) for f, (kind, d1, d2), ch in rows), key=lambda e: e[0])
    feed = ([start_row(0)] if playing else []) + events
    out = run(kern, feed, 4001, block=block)
    assert out == events


def test_orphan_note_offs_pass_through_byte_for_byte():
    rack = [GrooveProcessor(load_preset("swing16-58"))]
    kern = kernel(rack)
    events = [(100, 0x80, 60, 64), (200, 0x90, 61, 0), (300, 0x85, 62, 0)]
    out = run(kern, [start_row(0)] + events, 1024)
    assert out == [(f + kern.latency_frame, s, a, b) for f, s, a, b in events]
    assert kern.poll()["orphan_offs"] == 3


# -- quantize then groove ---------------------------------------------------------------
def test_quantize_then_groove_applies_the_groove_to_the_quantized_beat():
    preset = load_preset("swing16-58")
    kern = kernel([QuantizeProcessor("1/16", 1.0), GrooveProcessor(preset)])
    lat = kern.latency_frame
    assert lat == math.ceil(0.5 * 0.25 * FPB - 1e-9) + 1  # quantize's early move (+1: rounding)
    rng = np.random.default_rng(1)
    starts = np.arange(16) * 0.25 + rng.uniform(-0.08, 0.08, 16)
    starts[0] = abs(starts[0])
    events = []
    for i, b in enumerate(starts):
        f = beat_frame(b)
        events += [(f, 0x90, 40 + i, 100), (f + 600, 0x80, 40 + i, 0)]
    out = run(kern, [start_row(0)] + events, beat_frame(6), block=256)
    g = preset.groove
    ons = [r for r in out if r[1] == 0x90]
    assert len(ons) == 16
    for i, b in enumerate(starts):
        f = beat_frame(b)
        t = f / FPB
        x = float(g.forward(quantize_beat(t, 0.25, 1.0)))
        assert ons[i] == (out_frame(f, t, x, BPM, lat), 0x90, 40 + i, 100)
    assert kern.poll()["late"] == 0
    # 16th off-beats land at 0.29 beats after quantizing (swing 58 %), not 0.27
    on0 = ons[0][0]
    assert abs((ons[1][0] - on0) / FPB - 0.29) < 2 / FPB
    assert abs((ons[3][0] - ons[2][0]) / FPB - 0.29) < 2 / FPB


def test_quantize_keeps_a_staccato_note_long():
    kern = kernel([QuantizeProcessor("1/16", 1.0)])
    on = beat_frame(1.07)
    off = on + int(0.020 * SR)
    out = run(kern, [start_row(0), (on, 0x90, 60, 90), (off, 0x80, 60, 0)], beat_frame(3))
    notes = notes_of(out)
    assert len(notes) == 1
    assert notes[0][1] - notes[0][0] == off - on
    assert notes[0][0] == out_frame(on, on / FPB, 1.0, BPM, kern.latency_frame)


def test_humanize_moves_a_note_whole_and_never_cuts_the_next_note():
    kern = kernel([HumanizeProcessor(time_ms=10.0, seed=3)])
    lat = kern.latency_frame
    sixteenth = beat_frame(0.25)
    events = []
    for i in range(64):
        on = 1000 + i * sixteenth
        events += [(on, 0x90, 60, 100), (on + sixteenth, 0x80, 60, 0)]
    events.sort(key=lambda e: e[0])  # note-off before the next note-on at the same frame
    out = run(kern, [start_row(0)] + events, 1000 + 66 * sixteenth, block=256)
    z = note_noise(3, STREAM_TIMING, 0, np.arange(64))
    want_on = [1000 + i * sixteenth + math.floor(z[i] * 0.010 * SR + 1e-6) + lat for i in range(64)]
    notes = notes_of(out)
    assert [n[0] for n in notes] == want_on
    for i, (on, off, _key, _vel) in enumerate(notes):
        if i + 1 < 64 and want_on[i + 1] < on + sixteenth:
            assert off == want_on[i + 1]  # the earlier note ends where the next begins
        else:
            assert off - on == sixteenth  # every other note keeps its length to the frame
    # the output never has two notes of the key on at once (no note-off can cut a new note)
    depth = 0
    for _f, s, _k, v in out:
        depth += 1 if (s == 0x90 and v) else -1
        assert depth in (0, 1)
    assert depth == 0
    assert lat == math.ceil(CLIP_SIGMA * 10.0 * SR / 1000 - 1e-9) + 1  # bounded offsets
    assert kern.poll()["late"] == 0


def test_quantize_leaves_a_smooth_pitch_bend_smooth():
    kern = kernel([QuantizeProcessor("1/16", 1.0)])
    lat = kern.latency_frame
    bends = [(200 + 100 * i, 0xE0, i % 128, 64) for i in range(200)]
    notes = []
    for b in (0.2, 0.45, 0.7):  # each pulled later, past the bends that follow it
        f = beat_frame(b)
        notes += [(f, 0x90, 60, 100), (f + 500, 0x80, 60, 0)]
    out = run(kern, [start_row(0)] + sorted(bends + notes, key=lambda e: e[0]), 30000 + lat)
    assert [r for r in out if r[1] == 0xE0] == [(f + lat, s, a, b) for f, s, a, b in bends]
