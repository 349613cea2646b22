"""The block engine through its public interface: exactly-once, pairing, drift."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groove
from engine.host.engine import Engine
from engine.host.events import NOTE_OFF, NOTE_ON
from engine.host.processor import Rack
from engine.host.processors import GrooveProcessor, rack_for_preset
from engine.host.scheduler import Timeline
from engine.host.transport import ConstantTempo, Transport
from engine.presets.model import Amounts, Preset

SR = 48000


def drum_timeline(n_beats=16, seed=0):
    """16ths on three pitches with random lengths, sorted by start."""
    rng = np.random.default_rng(seed)
    starts = np.arange(n_beats * 4) * 0.25
    keys = rng.choice([36, 38, 42], size=starts.size)
    ends = starts + rng.uniform(0.05, 0.6, size=starts.size)
    return Timeline.from_arrays(
        src_beat=starts,
        end_beat=ends,
        kind=np.full(starts.size, NOTE_ON),
        key=keys,
        channel=np.full(starts.size, 9),
        value=rng.integers(40, 127, starts.size),
    )


GROOVES = [
    groove.swing(58),
    groove.swing(71, "1/8"),
    groove.template([0, 0.2, -0.3, 0.1, 0, 0.25, -0.2, 0.15], grid="1/8", interp="pchip"),
    groove.blend(
        [(groove.swing(66), 0.5), (groove.template([0, 0.1, -0.05, 0.14] * 4, interp="pchip"), 0.5)]
    ),
]


def run(engine, sizes):
    """Drive the engine; every output event with its absolute frame."""
    rows, frame = [], 0
    for n in sizes:
        out = engine.process(n)
        ev = out.view()
        assert np.all((ev["frame"] >= 0) & ((ev["frame"] < n) | (n == 0) & (ev["frame"] == 0)))
        rows.extend(
            (
                frame + int(e["frame"]),
                int(e["kind"]),
                int(e["channel"]),
                int(e["key"]),
                int(e["note"]),
                float(e["beat"]),
            )
            for e in ev
        )
        frame += n
    return rows


def check_pairs(rows, n_notes):
    """Every note-on once, each followed by its own note-off (same key), nothing stuck."""
    ons = [r for r in rows if r[1] == NOTE_ON]
    offs = [r for r in rows if r[1] == NOTE_OFF]
    ids = [r[4] for r in ons]
    assert sorted(ids) == list(range(n_notes)), "every note-on exactly once"
    assert sorted(r[4] for r in offs if r[4] >= 0) == list(range(n_notes))
    sounding = {}
    for r in rows:  # rows are in output order
        slot = (r[2], r[3])
        if r[1] == NOTE_ON:
            assert slot not in sounding, f"note {r[4]} starts while {sounding.get(slot)} sounds"
            sounding[slot] = r[4]
        elif r[1] == NOTE_OFF and r[4] >= 0:
            assert sounding.pop(slot) == r[4], "a note-off ends the note it belongs to"
    assert not sounding


@pytest.mark.parametrize("g", GROOVES, ids=["swing16", "swing8", "pchip", "blend"])
@pytest.mark.parametrize("block", [1, 7, 64, 256, 4096])
def test_notes_land_where_the_groove_puts_them(g, block):
    beats = 8 if block >= 64 else 2  # per-frame blocks are slow in Python
    tl = drum_timeline(beats)
    eng = Engine(rack_for_preset(g), tl, tempo=ConstantTempo(120))
    eng.prepare(SR, 4096)
    eng.transport.play()
    rows = run(eng, [block] * ((beats + 2) * 24000 // block + 4))
    check_pairs(rows, len(tl))
    on = {r[4]: r for r in rows if r[1] == NOTE_ON}
    expected_beat = g.forward(tl.src_beat)
    got_beat = np.array([on[i][5] for i in range(len(tl))])
    assert np.array_equal(got_beat, expected_beat)  # the same maths, bit for bit
    frames_per_beat = SR / 2.0
    got_frame = np.array([on[i][0] for i in range(len(tl))])
    assert np.all(np.abs(got_frame - expected_beat * frames_per_beat) <= 1.0)


def test_zero_frame_blocks_emit_nothing_and_lose_nothing():
    tl = drum_timeline(2)
    eng = Engine(rack_for_preset(GROOVES[0]), tl)
    eng.prepare(SR, 512)
    eng.transport.play()
    rows = run(eng, [0, 100, 0, 0, 300] * 400)
    check_pairs(rows, len(tl))


changes = st.one_of(
    st.tuples(st.just("groove"), st.integers(0, len(GROOVES) - 1), st.floats(0.0, 1.0)),
    st.tuples(st.just("tempo"), st.floats(40.0, 240.0)),
    st.tuples(st.just("seek"), st.floats(0.0, 6.0)),
    st.tuples(st.just("loop"), st.floats(0.0, 3.0), st.floats(0.5, 3.0)),
    st.tuples(st.just("none")),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(0, 2000), min_size=5, max_size=60),
    plan=st.lists(changes, min_size=5, max_size=60),
    seed=st.integers(0, 5),
)
def test_exactly_once_under_random_changes(sizes, plan, seed):
    """Whatever changes between blocks: no note twice, every note-on ended, none stuck."""
    tl = drum_timeline(8, seed)
    proc = GrooveProcessor(GROOVES[0])
    eng = Engine(Rack([proc]), tl)
    eng.prepare(SR, 4096)
    eng.transport.play()
    rows, frame, seeked = [], 0, False
    for n, change in zip(sizes, plan):
        if change[0] == "groove":
            eng.set_groove(Preset.from_groove(GROOVES[change[1]]), Amounts(timing=change[2]))
        elif change[0] == "tempo":
            eng.transport.set_tempo(change[1])
        elif change[0] == "seek":
            eng.transport.seek(change[1])
            seeked = True
        elif change[0] == "loop":
            eng.transport.set_loop(change[1], change[1] + change[2])
            seeked = True
        out = eng.process(n)
        ev = out.view()
        assert np.all((ev["frame"] >= 0) & (ev["frame"] < max(n, 1))), "an event outside its block"
        rows.extend(
            (
                frame + int(e["frame"]),
                int(e["kind"]),
                int(e["channel"]),
                int(e["key"]),
                int(e["note"]),
                float(e["beat"]),
            )
            for e in ev
        )
        frame += n
    eng.transport.stop()
    out = eng.process(0)
    rows.extend(
        (frame, int(e["kind"]), int(e["channel"]), int(e["key"]), int(e["note"]), 0.0)
        for e in out.view()
    )
    ons = [r[4] for r in rows if r[1] == NOTE_ON]
    if not seeked:  # without seeks and loops a note plays at most once
        assert len(ons) == len(set(ons))
    # every note-on is followed by its own note-off on the same key, nothing stuck
    sounding = {}
    for r in rows:
        slot = (r[2], r[3])
        if r[1] == NOTE_ON:
            assert slot not in sounding
            sounding[slot] = r[4]
        elif r[1] == NOTE_OFF:  # a panic's note-off (id -1) ends whatever sounds there
            ended = sounding.pop(slot, None)
            assert r[4] < 0 or ended == r[4]
    assert not sounding
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)


def test_exactly_once_when_timing_sweeps_during_playback():
    """A blend's amount swept 0 -> 1 while playing: each note once, in order of source."""
    tl = drum_timeline(16)
    blend = GROOVES[3]
    proc = GrooveProcessor(blend, Amounts(timing=0.0))
    eng = Engine(Rack([proc]), tl)
    eng.prepare(SR, 4096)
    eng.transport.play()
    rows, frame = [], 0
    for i in range(16 * 24000 // 256 + 200):
        if i % 10 == 0:
            eng.set_groove(amounts=Amounts(timing=min(1.0, i / 1500)))
        out = eng.process(256)
        rows.extend(
            (
                frame + int(e["frame"]),
                int(e["kind"]),
                int(e["channel"]),
                int(e["key"]),
                int(e["note"]),
                float(e["beat"]),
            )
            for e in out.view()
        )
        frame += 256
    check_pairs(rows, len(tl))


def test_stop_and_seek_end_every_sounding_note():
    n = 8
    tl = Timeline.from_arrays(
        src_beat=np.arange(n) * 0.5,
        end_beat=np.arange(n) * 0.5 + 4,
        kind=np.full(n, NOTE_ON),
        key=60 + np.arange(n),
    )
    eng = Engine(rack_for_preset(groove.swing(60)), tl)
    eng.prepare(SR, 1024)
    eng.transport.play()
    rows = run(eng, [1024] * 60)  # ~1.3 s: several long notes sound
    eng.transport.stop()
    at_stop = run(eng, [128])
    assert sum(r[1] == NOTE_OFF for r in at_stop) >= 2, "stop ends what sounds"
    rows += at_stop
    held = {}
    for r in rows:
        if r[1] == NOTE_ON:
            held[r[3]] = held.get(r[3], 0) + 1
        elif r[1] == NOTE_OFF:
            held[r[3]] = held.get(r[3], 0) - 1
    assert all(v == 0 for v in held.values())


@pytest.mark.parametrize("order", ["before", "after"])
def test_rack_timing_processors_fold_into_the_timeline(order):
    """Quantize in the rack moves timeline notes, before or after the groove processor."""
    starts = np.array([0.1, 1.05, 2.2])
    tl = Timeline.from_arrays(
        src_beat=starts, end_beat=starts + 0.1, kind=np.full(3, NOTE_ON), key=[60, 61, 62]
    )
    from engine.host.processors import QuantizeProcessor

    procs = [QuantizeProcessor("1/4", 1.0), GrooveProcessor(groove.swing(60))]
    eng = Engine(Rack(procs if order == "before" else procs[::-1]), tl)
    eng.prepare(SR, 1024)
    eng.transport.play()
    on = sorted((r[4], r[5]) for r in run(eng, [1024] * 80) if r[1] == NOTE_ON)
    assert [b for _, b in on] == groove.swing(60).forward(np.array([0.0, 1.0, 2.0])).tolist()


def test_ten_hours_without_drift():
    """Integer frame counting: the beat after 10 hours is exact."""
    tr = Transport(SR, ConstantTempo(137.0))
    tr.play()
    tr.apply_commands()
    rng = np.random.default_rng(3)
    total = 0
    target = 10 * 3600 * SR
    while total < target:
        n = int(min(rng.integers(1, 4097), target - total))
        tr.take(n)
        total += n
    exact = Fraction(total, SR) * Fraction(137, 60)
    assert abs(Fraction(tr.beat) - exact) < Fraction(1, 10**9)


def test_no_compilation_after_prepare():
    """Dispatcher signatures before and after a run are the same: nothing compiled."""
    from engine.host import _kernels as ek
    from groove import _kernels as gk

    tl = drum_timeline(4)
    eng = Engine(rack_for_preset(GROOVES[3]), tl)
    eng.prepare(SR, 256)
    eng.transport.play()
    dispatchers = [
        getattr(m, n) for m in (ek, gk) for n in dir(m) if hasattr(getattr(m, n), "signatures")
    ]
    before = {d: list(d.signatures) for d in dispatchers}
    run(eng, [64, 256, 7, 1] * 300)
    eng.transport.seek(1.0)
    run(eng, [256] * 10)
    assert {d: list(d.signatures) for d in dispatchers} == before
