"""Every capacity of the live kernel, full: nothing is dropped, nothing hangs, nothing reorders.

And L under MIDI clock covers the slowest tempo the session expects (issue 11 review).
"""

import math

import numpy as np

import groove
from engine.host import live_layout as L
from engine.host.live_kernel import DEFAULT_MIN_BPM, process_block
from engine.host.processors import GrooveProcessor

from .live_kernel_harness import SR, kernel, notes_of, run

TEMPLATE = [0, 0.2, -0.3, 0.1, 0, 0.25, -0.2, 0.15]


def balance(rows):
    """Sounding count per (channel, key) after ``rows`` (0 everywhere: nothing hangs)."""
    held = {}
    for _f, s, d1, d2 in rows:
        key = (s & 15, d1)
        if s & 0xF0 == 0x90 and d2 > 0:
            held[key] = held.get(key, 0) + 1
        elif s & 0xF0 in (0x80, 0x90) and held.get(key):
            held[key] -= 1
    return {k: v for k, v in held.items() if v}


def test_latency_tester_pattern_past_the_note_table_passes_every_message():
    # jack_midi_latency_test alternates 80 00 00 and 90 7F 7F: note-ons of key 127 pile
    # up with no note-off; its default is 1024 messages (512 note-ons, the table's size).
    kern = kernel([GrooveProcessor(groove.straight())])
    sent = [
        (100 + 37 * i, 0x80 if i % 2 == 0 else 0x90, 0 if i % 2 == 0 else 127, 0)
        for i in range(3000)
    ]
    sent = [(f, s, d1, 127 if s == 0x90 else 0) for f, s, d1, _ in sent]
    out = run(kern, sent, sent[-1][0] + 1000)
    lat = kern.latency_frame
    assert out == [(f + lat, s, d1, d2) for f, s, d1, d2 in sent]
    st = kern.poll()
    assert st["dropped"] == 0
    assert st["reused"] > 0
    end = run(kern, [], 256, commands={0: [("panic",)]}, start_frame=sent[-1][0] + 1024)
    assert balance(out + end) == {}  # the panic ends every stacked note-on


def test_a_full_note_table_passes_new_notes_untimed_and_their_note_offs_too():
    proc = GrooveProcessor(groove.swing(62))
    kern = kernel([proc], latency_ms=20.0)
    lat = kern.latency_frame
    keys = [(ch, k) for ch in range(16) for k in range(128)][: L.MAX_NOTES + 88]
    ons = [(1000 + 10 * i, 0x90 | ch, k, 100) for i, (ch, k) in enumerate(keys)]
    offs = [(20000 + 10 * i, 0x80 | ch, k, 0) for i, (ch, k) in enumerate(keys)]
    out = run(kern, [(0, 0xFA, 0, 0)] + ons + offs, 40000)
    st = kern.poll()
    assert st["dropped"] == 0
    assert st["untreated"] == 88
    got = notes_of(out)
    assert len(got) == len(keys)
    assert balance(out) == {}
    # the 88 that found no slot go out at arrival + L, their note-offs too
    for f_on, s, k, _ in ons[L.MAX_NOTES :]:
        assert (f_on + lat, s, k, 100) in out


def test_a_full_delay_line_sends_its_earliest_entry_early_and_keeps_the_order():
    kern = kernel([GrooveProcessor(groove.straight())], latency_ms=1000.0)
    n = L.MAX_PENDING + 900
    sent = [(100 + 10 * i, 0xB0, 7, i % 128) for i in range(n)]  # all within L
    out = run(kern, sent, sent[-1][0] + 50000)
    st = kern.poll()
    assert st["dropped"] == 0
    assert st["forced"] == 900
    assert [r[1:] for r in out] == [r[1:] for r in sent]
    frames = [r[0] for r in out]
    assert frames == sorted(frames)
    lat = kern.latency_frame
    assert out[-1][0] == sent[-1][0] + lat  # only the forced entries moved


def test_a_full_output_buffer_holds_rows_for_the_next_block():
    kern = kernel([GrooveProcessor(groove.straight())], latency_ms=0.0)
    out_ev = np.zeros((L.OUT_RESERVE + 8, 4), np.int32)
    in_ev = np.array([(i, 0xB0, 7, i) for i in range(50)], np.int32)
    empty = np.zeros(0, np.float32)
    got = []
    for k in range(10):
        rows = in_ev if k == 0 else in_ev[:0]
        n = process_block(
            kern.istate, kern.fstate, rows, rows.shape[0], out_ev, 64, 64 * k, empty, empty
        )
        got += [(64 * k + int(r[0]), int(r[3])) for r in out_ev[:n]]
    st = kern.poll()
    assert st["dropped"] == 0 and st["deferred"] > 0
    assert [v for _f, v in got] == list(range(50))
    assert [f for f, _v in got] == sorted(f for f, _v in got)


def test_a_row_count_past_the_input_buffer_is_clipped():
    kern = kernel([])
    in_ev = np.array([(0, 0xB0, 7, 1), (1, 0xB0, 7, 2)], np.int32)
    out_ev = np.zeros((64, 4), np.int32)
    empty = np.zeros(0, np.float32)
    n = process_block(kern.istate, kern.fstate, in_ev, 1000, out_ev, 64, 0, empty, empty)
    assert kern.poll()["events_in"] == 2
    assert [tuple(r) for r in out_ev[:n]] == [(0, 0xB0, 7, 1), (1, 0xB0, 7, 2)]


def test_a_swap_is_acknowledged_even_when_the_out_ring_is_full():
    proc = GrooveProcessor(groove.swing(60))
    kern = kernel([proc], cc_map={20: "weight1"})
    out_ev = np.zeros((4096, 4), np.int32)
    empty = np.zeros(0, np.float32)
    ccs = np.array([(i % 64, 0xB0, 20, i % 128) for i in range(L.OUT_CAP + 50)], np.int32)
    ccs = ccs[np.argsort(ccs[:, 0], kind="stable")]
    process_block(kern.istate, kern.fstate, ccs, ccs.shape[0], out_ev, 64, 0, empty, empty)
    kern.load_groove(groove.swing(66))  # the swap's ack finds the out ring full
    process_block(kern.istate, kern.fstate, ccs[:0], 0, out_ev, 64, 64, empty, empty)
    assert kern.poll()["swap_pending"] is False


# -- L and tempo under MIDI clock -------------------------------------------------------
def _blend():
    return groove.blend([(groove.swing(66), 1), (groove.template(TEMPLATE, grid="1/8"), 1)])


def test_midi_sync_latency_covers_the_slowest_expected_tempo():
    g = _blend()
    internal = kernel([GrooveProcessor(g)], bpm=120.0)
    midi = kernel([GrooveProcessor(g)], sync="midi", bpm=120.0)
    slow = kernel([GrooveProcessor(g)], sync="midi", bpm=120.0, min_bpm=90.0)
    assert internal.latency_bpm == 120.0
    assert midi.latency_bpm == DEFAULT_MIN_BPM
    assert slow.latency_bpm == 90.0
    # moves are fixed in beats: L grows as the covered tempo slows
    ratio = midi.latency_frame / internal.latency_frame
    assert abs(ratio - 120.0 / DEFAULT_MIN_BPM) < 0.01


def test_notes_on_a_96_bpm_midi_clock_are_never_late():
    proc = GrooveProcessor(_blend())
    kern = kernel([proc], sync="midi", bpm=120.0)
    lat = kern.latency_frame
    period = SR * 60.0 / (96.0 * 24)
    clocks = [int(round(i * period)) for i in range(24 * 12)]
    events = [(f, 0xF8, 0, 0) for f in clocks[:48]] + [(clocks[48], 0xFA, 0, 0)]
    events += [(f, 0xF8, 0, 0) for f in clocks[48:]]
    notes = []
    for k in range(20):  # 8ths from the Start (where the template's early moves are)
        f = clocks[48 + 12 * k]
        notes.append((k / 2.0, f))
        events += [(f, 0x90, 40, 100), (f + 200, 0x80, 40, 0)]
    events.sort(key=lambda e: (e[0], e[1] != 0xF8 and e[1] != 0xFA))
    out = run(kern, events, clocks[-1] + 8000)
    st = kern.poll()
    assert st["late"] == 0 and st["needs_latency_ms"] is None
    ons = [r[0] for r in out if r[1] == 0x90]
    fpb = period * 24
    g = proc.current.preset.groove
    want = [f + math.floor((float(g.forward(b)) - b) * fpb + 1e-6) + lat for b, f in notes]
    assert ons == want


def test_the_transport_keeps_the_clocks_tempo_after_they_stop():
    # The clocks stop after a Song Position (the master relocated, no clock yet): the
    # transport used to be steered at a frozen target, clamped to half the tempo (48 bpm).
    kern = kernel([GrooveProcessor(_blend())], sync="midi", bpm=120.0)
    period = SR * 60.0 / (96.0 * 24)
    clocks = [int(round(i * period)) for i in range(24 * 8)]
    events = [(0, 0xFA, 0, 0)] + [(f, 0xF8, 0, 0) for f in clocks]
    events.append((clocks[-1] + 100, 0xF2, 0, 1))  # Song Position: 16th 128 = beat 32
    run(kern, events, clocks[-1] + 48000)
    playing, beat, bpf = kern.transport_view()
    assert playing and abs(bpf * SR * 60.0 - 96.0) < 0.5
    assert 32.0 < beat < 32.0 + 1.1 * 96.0 / 60.0  # from the new position, at 96 bpm


def test_stopped_under_midi_sync_the_status_shows_the_clocks_tempo():
    kern = kernel([GrooveProcessor(_blend())], sync="midi", bpm=120.0)
    period = SR * 60.0 / (96.0 * 24)
    run(kern, [(int(round(i * period)), 0xF8, 0, 0) for i in range(48)], int(50 * period))
    playing, _beat, bpf = kern.transport_view()
    assert not playing and abs(bpf * SR * 60.0 - 96.0) < 0.5
