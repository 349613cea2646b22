"""The live block core with the real engine, driven block by block (no JACK).

Checks the frame arithmetic both backends rely on against the reference
grooves in tests/groove/reference.py: Start at any frame is beat 0, notes come
out at F_start + (T(t) + L) * frames_per_beat (+-1 frame: the engine floors
to a frame), MIDI clock is followed, and every note ends on Stop, quit and
failure.
"""

import numpy as np
import pytest

import groove
from engine.host.engine import Engine
from engine.host.processors import rack_for_preset
from engine.live.backends.core import BlockCore
from engine.live.midiclock import CLOCK, CONTINUE, START, STOP
from engine.presets.model import Preset
from tests.groove.reference import RefBlend, RefTemplate, ref_swing

from .jack_harness import balance, clock_pattern, expected_events, match_notes, note_pattern

SR = 48000
TEMPLATE = [0, 0.2, -0.3, 0.1, 0, 0.25, -0.2, 0.15]

CASES = {
    "swing": (lambda: groove.swing(62), lambda: ref_swing(62, "1/16")),
    "template": (
        lambda: groove.template(TEMPLATE, grid="1/8", period=4),
        lambda: RefTemplate(TEMPLATE, "1/8", 4),
    ),
    "blend": (
        lambda: groove.blend([(groove.swing(66), 1), (groove.template(TEMPLATE, grid="1/8"), 1)]),
        lambda: RefBlend([(ref_swing(66, "1/16"), 1), (RefTemplate(TEMPLATE, "1/8", 4), 1)]),
    ),
}


def make_core(g, block=256, **kw):
    eng = Engine(rack_for_preset(Preset.from_groove(g)))
    eng.prepare(SR, 4096)
    eng.transport.set_tempo(kw.pop("bpm_engine", kw.get("bpm", 120.0)))
    return BlockCore(eng, SR, **kw), eng


def drive(core, events, n_frames, block=256, sizes=None, between=None):
    """Run blocks over absolute-frame events; returns [(frame, bytes)] sent."""
    events = sorted(events, key=lambda e: e[0])
    out, i, frame, k = [], 0, 0, 0
    while frame < n_frames:
        n = int(sizes[k % len(sizes)]) if sizes is not None else block
        incoming = []
        while i < len(events) and events[i][0] < frame + n:
            incoming.append((events[i][0] - frame, events[i][1]))
            i += 1
        if between is not None:
            between(frame, core)
        out += [(frame + f, b) for f, b in core.run_block(n, frame, incoming)]
        frame += n
        k += 1
    return out


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("irregular", [False, True])
def test_internal_clock_started_by_start_is_exact(case, irregular):
    g, ref = CASES[case][0](), CASES[case][1]()
    core, eng = make_core(g, bpm=120.0)
    rng = np.random.default_rng(7)
    f_start = 1000 + int(rng.integers(0, 256))
    notes = [(f_start + f, b) for f, b in note_pattern(rng, 300, 8 * SR)]
    sizes = rng.integers(16, 512, 64) if irregular else None
    sent = drive(core, [(f_start, bytes((START,)))] + notes, 10 * SR, sizes=sizes)
    latency = eng.latency_beat
    assert latency == pytest.approx(max(0.0, -g.min_deviation_beat))
    exp = expected_events(notes, f_start, SR / 2.0, ref.forward, latency)
    err, missing, extra = match_notes(exp, sent)
    assert missing == 0 and extra == []
    assert np.abs(err).max() <= 1.0 + 1e-6, np.abs(err).max()
    assert balance(sent) == {}


def test_midi_clock_is_followed_to_the_frame():
    g, ref = CASES["template"][0](), CASES["template"][1]()
    core, eng = make_core(g, bpm=120.0, sync="midi")
    bpm_master = 100.0
    fpb = SR * 60.0 / bpm_master
    clocks = clock_pattern(bpm_master, SR, 300, 24 * 40)
    f_start = clocks[48][0]  # two beats of clock first, then Start with a clock
    rng = np.random.default_rng(3)
    notes = [(f_start + f, b) for f, b in note_pattern(rng, 300, int(30 * fpb))]
    events = clocks[:48] + [(f_start, bytes((START,)))] + clocks[48:] + notes
    sent = drive(core, events, int(f_start + 36 * fpb))
    exp = expected_events(notes, f_start, fpb, ref.forward, eng.latency_beat)
    err, missing, extra = match_notes(exp, sent)
    assert missing == 0 and extra == []
    # The clock itself is rounded to frames (+-0.5), the engine floors (+1).
    assert np.abs(err).max() <= 1.5
    assert core.follower.bpm == pytest.approx(bpm_master, rel=1e-4)


def test_midi_clock_tempo_change_is_followed():
    core, eng = make_core(groove.swing(50), bpm=120.0, sync="midi")
    a = clock_pattern(90.0, SR, 0, 24 * 8 + 1)
    b = clock_pattern(150.0, SR, a[-1][0], 24 * 8)[1:]
    events = [(0, bytes((START,)))] + a + b
    drive(core, events, b[-1][0] + 100)
    playing, beat, bpf = core.transport_view
    assert playing
    assert bpf * SR * 60 == pytest.approx(150.0, rel=0.01)
    last_clock = b[-1][0]  # song position 383 clocks
    block_start = (last_clock + 100 - 1) // 256 * 256
    expected = 383 / 24 + (block_start - last_clock) / (SR * 60 / 150)
    assert beat == pytest.approx(expected, abs=0.01)


def test_stop_ends_every_note_and_later_note_offs_are_not_doubled():
    core, eng = make_core(groove.swing(66), bpm=120.0)
    on = [(1000 + 37 * k, bytes((0x90, 40 + k, 100))) for k in range(20)]
    stop = [(20000, bytes((STOP,)))]
    offs = [(30000 + k, bytes((0x80, 40 + k, 0))) for k in range(20)]
    sent = drive(core, [(500, bytes((START,)))] + on + stop + offs, 40000)
    assert balance(sent) == {}
    assert sum(1 for _, b in sent if b[0] == 0xB0 and b[1] == 123) == 1  # All Notes Off
    assert core.counts["orphan_offs"] == 20


def test_quit_request_ends_notes_then_goes_silent():
    core, eng = make_core(groove.swing(66), bpm=120.0)
    eng.transport.play()
    on = [(100 + k, bytes((0x90, 60 + k, 90))) for k in range(5)]
    sent = drive(core, on, 20000)
    assert len(balance(sent)) == 5
    core.request("quit")
    sent += drive(core, [(10, bytes((0x90, 1, 1)))], 1024)
    assert balance(sent) == {} and core.quiet.is_set()
    assert drive(core, [(5, bytes((0x90, 2, 2)))], 1024) == []


def test_failure_inside_the_block_still_ends_notes(monkeypatch):
    core, eng = make_core(groove.swing(58), bpm=120.0)
    eng.transport.play()
    sent = drive(core, [(10, bytes((0x90, 64, 90)))], 4096)
    assert balance(sent) == {(0, 64): 1}

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(eng, "process", broken)
    sent += drive(core, [], 256)
    assert balance(sent) == {} and isinstance(core.failed, RuntimeError)


def test_mapped_cc_is_taken_out_and_queued():
    core, eng = make_core(groove.swing(58), bpm=120.0, cc_map={1: "timing"})
    eng.transport.play()
    sent = drive(core, [(3, bytes((0xB0, 1, 77))), (4, bytes((0xB0, 7, 100)))], 256)
    assert list(core.cc_values) == [("timing", 77)]
    assert [b for _, b in sent] == [bytes((0xB0, 7, 100))]


def test_send_clock_follows_the_transport():
    core, eng = make_core(groove.swing(58), bpm=150.0, send_clock=True)
    sent = drive(core, [(777, bytes((START,)))], 3 * SR, sizes=[256, 100, 333])
    clocks = [f for f, b in sent if b[0] == CLOCK]
    starts = [f for f, b in sent if b[0] == START]
    fpc = SR * 60.0 / (150.0 * 24)
    assert starts == [777]
    expected = 777 + np.arange(len(clocks)) * fpc
    assert np.abs(np.array(clocks) - expected).max() <= 1.0
    assert len(clocks) >= int((3 * SR - 777 - 512) / fpc)


def test_continue_after_stop_resumes_where_it_stopped():
    core, eng = make_core(groove.swing(50), bpm=120.0)
    drive(core, [(0, bytes((START,))), (12000, bytes((STOP,)))], 24000)
    playing, beat_stopped, _ = core.transport_view
    # Stop applies from the start of the block it arrives in (frame 11776).
    assert not playing and beat_stopped == pytest.approx(11776 / 24000, abs=1e-9)
    drive(core, [(0, bytes((CONTINUE,)))], 512)
    playing, beat, _ = core.transport_view
    assert playing and beat == pytest.approx(beat_stopped + 256 / 24000)


def test_quit_while_sending_clock_also_sends_stop():
    core, eng = make_core(groove.swing(58), bpm=120.0, send_clock=True)
    sent = drive(core, [(10, bytes((START,)))], 4096)
    core.request("quit")
    sent += drive(core, [], 256)
    assert sent[-1][1] == bytes((STOP,)) and balance(sent) == {}
