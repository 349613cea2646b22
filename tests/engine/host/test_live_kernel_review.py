"""Regression tests for the adversarial review of the compiled live path (issue 11, round 2)."""

import numpy as np
import pytest

from engine.host import live_layout as L
from engine.host.live_kernel import process_block
from engine.host.processors import GrooveProcessor
from engine.presets import load as load_preset

from .live_kernel_harness import kernel, notes_of, run

EMPTY = np.zeros(0, np.float32)


@pytest.mark.parametrize("key", [42, 36])  # 42: funk-16's hats lane (absent in swing16-58)
def test_note_held_across_a_reload_keeps_its_length(key):
    kern = kernel([GrooveProcessor(load_preset("funk-16"))])
    on_f, off_f = 1000, 24000
    out = run(kern, [(0, 0xFA, 0, 0), (on_f, 0x90, key, 100)], 2560)
    kern.load_groove(load_preset("swing16-58"))
    out += run(kern, [(off_f, 0x80, key, 0)], 48000, start_frame=2560)
    (note,) = notes_of(out)
    assert note[1] - note[0] == off_f - on_f


def block(kern, out, frame, rows, frames=64):
    a = np.array(rows, np.int32).reshape(-1, 4)
    return process_block(kern.istate, kern.fstate, a, a.shape[0], out, frames, frame, EMPTY, EMPTY)


def test_a_panic_bigger_than_a_port_buffer_sends_the_pedal_up_and_all_notes_off_first():
    # JACK's 64-frame MIDI buffer holds ~2728 three-byte messages: a caller may cut the tail
    # of a panic, so the pedal-up and All Notes Off must come before the note-offs.
    kern = kernel([GrooveProcessor(load_preset("straight"))])
    out = np.zeros((4096, 4), np.int32)
    block(kern, out, 0, [(0, 0xFA, 0, 0), (1, 0xB0, 64, 127)])
    f = 64
    for i in range(3000):  # note-ons with no note-offs (drum pads, a tester), 4 keys
        block(kern, out, f, [(0, 0x90, 36 + i % 4, 100)])
        f += 64
    kern.poll()
    kern.command("stop")
    n = block(kern, out, f, [])
    rows = [tuple(r) for r in out[:n, 1:].tolist()]
    assert rows[:2] == [(0xB0, 64, 0), (0xB0, 123, 0)]
    assert rows[2:] == [(0x80, 36 + i % 4, 0) for i in sorted(range(3000), key=lambda i: i % 4)]


def test_send_clock_after_a_seek_past_song_positions_range_sends_no_burst():
    # Song Position ends at 16383 sixteenths (beat 4096): a seek past it used to restart
    # the clock there and send every tick up to the transport's beat in one block.
    kern = kernel([GrooveProcessor(load_preset("straight"))], send_clock=True, latency_ms=20.0)
    ev = [(0, 0xFA, 0, 0), (1000, 0x90, 60, 100), (24000, 0x80, 60, 0)]
    out = run(kern, ev, 30000, block=256, commands={40: [("seek", 5000.0)]})
    p = kern.poll()
    per_block = {}
    for f, s, _d1, _d2 in out:
        if s == 0xF8:
            per_block[f // 256] = per_block.get(f // 256, 0) + 1
    assert max(per_block.values()) <= 2  # 256 frames at 120 bpm: 0.13 clocks' worth
    assert not [r for r in out if r[1] == 0xF2 and r[0] >= 40 * 256]  # no false position
    assert (40 * 256, 0xFB, 0, 0) in out  # Continue at the seek
    ticks_after = [f for f, s, _a, _b in out if s == 0xF8 and f >= 40 * 256]
    assert ticks_after[0] == 40 * 256  # beat 5000 is on a tick: the first clock at the seek
    assert p["dropped"] == 0 and p["sounding"] == 0
    assert notes_of(out)  # the note before the seek was ended


def test_blend_weight_knob_sweep_between_polls_keeps_its_last_value():
    # 300 weight CCs before the main thread polls: more than the 256-row out ring held.
    kern = kernel([GrooveProcessor(load_preset("halfway"))], cc_map={1: "weight1"})
    out = np.zeros((4096, 4), np.int32)
    kern.poll()
    block(kern, out, 0, [(i % 256, 0xB0, 1, i % 128) for i in range(300)], frames=256)
    kern.poll()
    assert kern.cc_values and kern.cc_values[-1] == ("weight1", 299 % 128)
    assert kern.poll()["dropped"] == 0
    kern.cc_values.clear()
    block(kern, out, 256, [], frames=256)
    kern.poll()
    assert kern.cc_values == []  # nothing new: nothing to apply


def test_active_sensing_and_reset_pass_through_at_once():
    kern = kernel([GrooveProcessor(load_preset("straight"))], latency_ms=5.0)
    out = run(kern, [(0, 0xFA, 0, 0), (10, 0xFE, 0, 0), (300, 0xFF, 0, 0)], 1024)
    assert [r for r in out if r[1] >= 0xFE] == [(10, 0xFE, 0, 0), (300, 0xFF, 0, 0)]


def test_a_lane_past_the_stage_s_lanes_reads_its_last_lane_not_past_the_table():
    from engine.host._lk_chain import stage_base
    from engine.host._lk_math import lane_row

    kern = kernel([GrooveProcessor(load_preset("swing16-58"))])
    fs = kern.fstate
    bank = int(fs[L.F_BANK_BASE + kern.istate[L.I_ACTIVE_BANK]])
    _kind, gbase = stage_base(fs, bank, int(fs[bank + L.B_GROOVE_STAGE]))
    nlanes = int(fs[gbase + L.G_NLANES])
    last = gbase + L.G_LANES + (nlanes - 1) * L.LANE_W
    assert lane_row(fs, gbase, nlanes + 3) == last
    assert lane_row(fs, gbase, -1) == gbase + L.G_LANES


def test_a_bend_flood_through_a_long_delay_line_keeps_the_note_off():
    # review defect 2 (fixed in the capacity round): 2100 bends behind a held note, L = 1 s
    kern = kernel([GrooveProcessor(load_preset("straight"))], latency_ms=1000.0)
    ev = [(0, 0xFA, 0, 0), (100, 0x90, 60, 100)]
    ev += [(200 + 10 * i, 0xE0, i % 128, 64) for i in range(2100)]
    ev += [(30000, 0x80, 60, 0)]
    out = run(kern, ev, 48000 * 3)
    assert [r for r in out if r[1] == 0x80] and kern.poll()["sounding"] == 0
    assert sum(1 for r in out if r[1] == 0xE0) == 2100
    assert kern.poll()["dropped"] == 0
