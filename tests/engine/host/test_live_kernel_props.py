"""Live kernel properties over random input: pairing, order, seeks, reloads, live = offline."""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groove
from engine.host.processor import Rack
from engine.host.processors import GrooveProcessor, HumanizeProcessor, QuantizeProcessor
from engine.host.scheduler import Timeline
from engine.presets import load as load_preset
from engine.presets.model import Amounts, Preset
from groove.transform import CLIP_SIGMA, STREAM_TIMING, STREAM_VELOCITY, note_noise

from .live_kernel_harness import SR, fpb, kernel, notes_of, run, start_row

FPB = fpb(120.0)
SLOW = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_notes(rng, n, span, keys=(40, 41, 42)):
    """Note-on/off pairs of a few keys (a key may overlap itself), sorted by frame."""
    ev = []
    for _ in range(n):
        f = int(rng.integers(0, span))
        k = int(rng.choice(keys))
        ev += [
            (f, 0x90, k, int(rng.integers(1, 128))),
            (f + int(rng.integers(1, 9000)), 0x80, k, 0),
        ]
    return sorted(ev, key=lambda e: e[0])


def check_paired(out):
    """Per key: never more note-offs than note-ons so far, and balanced at the end."""
    depth = {}
    for _f, s, k, v in out:
        kind = s & 0xF0
        if kind == 0x90 and v:
            depth[k] = depth.get(k, 0) + 1
        elif kind in (0x80, 0x90):
            assert depth.get(k, 0) > 0, "a note-off before its note-on"
            depth[k] -= 1
    assert all(v == 0 for v in depth.values()), depth


@settings(max_examples=25, **SLOW)
@given(seed=st.integers(0, 10**6), block=st.sampled_from([32, 256, 777]), rnd=st.booleans())
def test_every_note_on_gets_its_note_off_after_it(seed, block, rnd):
    rng = np.random.default_rng(seed)
    rack = [QuantizeProcessor("1/16", float(rng.uniform(0, 1)))]
    if rnd:
        rack.append(HumanizeProcessor(time_ms=float(rng.uniform(0, 20)), seed=seed))
    rack.append(GrooveProcessor(load_preset("swing16-58"), Amounts(random_ms=3.0 if rnd else 0.0)))
    kern = kernel(rack)
    events = [start_row(0)] + random_notes(rng, 40, 60000)
    out = run(kern, events, 80000, block=block)
    out += run(kern, [], 256, commands={0: [("stop",)]}, start_frame=80000 // block * block + block)
    check_paired([r for r in out if not (r[1] == 0xB0)])
    ons = sum(1 for e in events if e[1] == 0x90)
    assert sum(1 for r in out if r[1] == 0x90) == ons


@settings(max_examples=25, **SLOW)
@given(seed=st.integers(0, 10**6), block=st.sampled_from([64, 256]))
def test_nothing_reorders_across_cc_changes_and_reloads(seed, block):
    rng = np.random.default_rng(seed)
    kern = kernel([GrooveProcessor(load_preset("swing16-58"))], cc_map={1: "timing", 2: "quantize"})
    events = [start_row(0)]
    for i in range(60):
        events.append((300 + i * 1200 + int(rng.integers(0, 600)), 0x90, i % 100, 100))
    for _ in range(6):
        events.append(
            (int(rng.integers(0, 72000)), 0xB0, int(rng.integers(1, 3)), int(rng.integers(0, 128)))
        )
    events.sort(key=lambda e: e[0])
    swaps = {int(b): [("swap-in",)] for b in rng.integers(0, 72000 // block, 3)}

    class Proxy:
        def command(self, name, *v):
            if name == "swap-in":
                kern.load_groove(Preset.from_groove(groove.swing(float(rng.uniform(50, 75)))))
            else:
                kern.command(name, *v)

        def __getattr__(self, name):
            return getattr(kern, name)

    out = run(Proxy(), events, 80000, block=block, commands=swaps)
    ons = [r for r in out if r[1] == 0x90]
    assert [r[2] for r in ons] == [e[2] for e in events if e[1] == 0x90]
    assert [r[0] for r in out] == sorted(r[0] for r in out)


def test_late_events_are_counted_once():
    kern = kernel([GrooveProcessor(groove.straight())])  # L = 0
    kern.load_groove(Preset.from_groove(groove.template([0.0, -0.4, 0.0, 0.0], period=1)))
    run(kern, [], 256)
    events = [start_row(256)]
    for i in range(8):  # each on an off-beat 16th, which this groove moves 0.1 beat early
        f = 256 + beat_frame(i + 0.25)
        events += [(f, 0x90, 50, 100), (f + 100, 0x80, 50, 0)]
    run(kern, events, beat_frame(9), start_frame=256)
    assert kern.poll()["late"] == 16  # each note-on and each note-off once


def beat_frame(b):
    return int(round(b * FPB))


def test_live_random_offsets_and_velocities_are_the_renderers():
    a = Amounts(random_ms=6.0, random_velocity=10.0, seed=11)
    kern = kernel([GrooveProcessor(Preset.from_groove(groove.straight()), a)])
    assert kern.latency_frame == math.ceil(CLIP_SIGMA * 6.0 * SR / 1000 - 1e-9) + 1
    events = [start_row(0)]
    for i in range(20):
        f = 2000 + i * 4000
        events += [(f, 0x90, 60, 80), (f + 1000, 0x80, 60, 0)]
    notes = notes_of(run(kern, events, 90000))
    z = note_noise(11, STREAM_TIMING, 0, np.arange(20))
    zv = note_noise(11, STREAM_VELOCITY, 0, np.arange(20))
    for i, (on, off, _k, vel) in enumerate(notes):
        f = 2000 + i * 4000
        assert on == f + math.floor(z[i] * 0.006 * SR + 1e-6) + kern.latency_frame
        assert off - on == 1000
        assert vel == int(np.clip(np.rint(80 + 10.0 * zv[i]), 1, 127))


def test_ends_keep_keeps_lengths_and_ends_groove_moves_them_through_the_curve():
    preset = load_preset("swing16-58")
    on_f, off_f = beat_frame(0.25), beat_frame(0.5)  # an off-beat 16th ending on the beat
    for ends in ("keep", "groove"):
        kern = kernel([GrooveProcessor(preset)], ends=ends)
        notes = notes_of(
            run(kern, [start_row(0), (on_f, 0x90, 60, 9), (off_f, 0x80, 60, 0)], 30000)
        )
        swing = float(preset.groove.forward(0.25)) - 0.25
        assert notes[0][0] == on_f + math.floor(swing * FPB + 1e-6)
        want_off = notes[0][0] + (off_f - on_f) if ends == "keep" else off_f
        assert notes[0][1] == want_off


def test_a_rack_reload_keeps_the_cc_driven_amounts():
    preset = load_preset("swing16-58")
    kern = kernel([GrooveProcessor(preset)], cc_map={1: "timing"})
    run(kern, [start_row(0), (10, 0xB0, 1, 0)], 256)  # timing 0 by CC
    kern.load_rack(Rack([GrooveProcessor(load_preset("swing16-66"))]))
    f = 256 * 4 + beat_frame(0.25)
    out = run(kern, [(f, 0x90, 60, 100), (f + 50, 0x80, 60, 0)], 30000, start_frame=256)
    assert notes_of(out)[0][0] == f + kern.latency_frame  # still timing 0: not swung


@settings(max_examples=20, **SLOW)
@given(
    seek=st.floats(0.0, 6.0),
    block=st.sampled_from([64, 256, 1000]),
    at_block=st.integers(1, 20),
)
def test_after_a_seek_every_later_timeline_note_plays_once_and_no_earlier_one(
    seek, block, at_block
):
    starts = np.arange(0.0, 8.0, 0.25)
    tl = Timeline.from_arrays(
        src_beat=starts,
        end_beat=starts + 0.1,
        kind=np.full(starts.size, 0x90),
        key=40 + np.arange(starts.size) % 30,
    )
    preset = load_preset("swing16-58")
    kern = kernel([GrooveProcessor(preset)], timeline=tl)
    cmds = {0: [("start",)], at_block: [("seek", seek)]}
    total = at_block * block + beat_frame(9)
    out = run(kern, [], total, block=block, commands=cmds)
    on_beats = preset.groove.forward(starts)
    played_before = [
        i for i in range(starts.size) if math.floor(on_beats[i] * FPB + 1e-6) < at_block * block
    ]
    after = [i for i in range(starts.size) if on_beats[i] >= seek]
    want = sorted([40 + i % 30 for i in played_before] + [40 + i % 30 for i in after])
    got = sorted(r[2] for r in out if r[1] == 0x90 and r[3])
    assert got == want
    check_paired(out)


def test_groove_velocity_accents_are_the_renderers():
    from groove.transform import apply_notes

    g = groove.template([0.0, 0.2, 0.0, 0.1], period=1, velocity=[1.0, 0.5, 0.8, 0.3])
    a = Amounts(velocity=0.7, quantize=0.5)
    kern = kernel([GrooveProcessor(Preset.from_groove(g), a)])
    lat = kern.latency_frame
    starts = np.array([0.02, 0.27, 0.49, 0.81, 1.3])
    events = [start_row(0)]
    for i, b in enumerate(starts):
        f = beat_frame(b)
        events += [(f, 0x90, 50 + i, 90), (f + 300, 0x80, 50 + i, 0)]
    notes = notes_of(run(kern, events, beat_frame(3)))
    t = np.array([beat_frame(b) / FPB for b in starts])
    on, _off, vel = apply_notes(
        [g], np.zeros(5, np.int64), t, t + 0.01, np.full(5, 90), quantize=0.5, velocity_amount=0.7
    )
    for i, (f_on, _f_off, _k, v) in enumerate(notes):
        assert v == vel[i]
        assert f_on == beat_frame(starts[i]) + math.floor((on[i] - t[i]) * FPB + 1e-6) + lat


@settings(max_examples=25, **SLOW)
@given(seed=st.integers(0, 10**6), time_ms=st.floats(1.0, 40.0), block=st.sampled_from([64, 256]))
def test_a_retrigger_never_cuts_the_new_note(seed, time_ms, block):
    """Input that never overlaps a key itself never overlaps it at the output either."""
    rng = np.random.default_rng(seed)
    kern = kernel([HumanizeProcessor(time_ms=time_ms, seed=seed), QuantizeProcessor("1/16", 0.3)])
    events, free = [start_row(0)], {}
    f = 500
    for _ in range(80):
        f += int(rng.integers(0, 3000))
        k = int(rng.integers(60, 63))
        start = max(f, free.get(k, 0))
        end = start + int(rng.integers(1, 6000))
        free[k] = end
        events += [(start, 0x90, k, 100), (end, 0x80, k, 0)]
    events.sort(key=lambda e: (e[0], e[1] == 0x90))  # a key's note-off before its next note-on
    out = run(kern, events, max(free.values()) + 20000, block=block)
    depth = {}
    for _f, s, k, v in out:
        depth[k] = depth.get(k, 0) + (1 if s == 0x90 and v else -1)
        assert depth[k] in (0, 1)
    assert all(v == 0 for v in depth.values())
