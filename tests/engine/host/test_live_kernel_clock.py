"""MIDI clock in and out and the click, inside the live kernel."""

import math

import numpy as np
import pytest

import groove
from engine.host.processors import GrooveProcessor
from engine.presets import load as load_preset

from .live_kernel_harness import SR, kernel, run


@pytest.mark.parametrize("block", [64, 256])
@pytest.mark.parametrize("name", ["straight", "swing16-58"])
def test_notes_on_a_steady_midi_clock_land_on_its_grooved_beat_to_the_frame(block, name):
    preset = load_preset(name) if name != "straight" else None
    proc = GrooveProcessor(preset if preset is not None else groove.straight())
    kern = kernel([proc], sync="midi", bpm=120.0)
    lat = kern.latency_frame
    period = SR * 60.0 / (100.0 * 24)  # 100 bpm: 1200 frames per clock
    first = 1000
    events = [(100, 0xFA, 0, 0)]
    clocks = [first + int(round(i * period)) for i in range(24 * 8)]
    events += [(f, 0xF8, 0, 0) for f in clocks]
    notes = []
    for k in range(8 * 4):
        f = clocks[6 * k]
        notes.append((k, f))
        events += [(f, 0x90, 40 + k % 8, 100), (f + 300, 0x80, 40 + k % 8, 0)]
    events.sort(key=lambda e: (e[0], e[1] != 0xF8))  # the clock before a note on its frame
    out = run(kern, events, clocks[-1] + 4000, block=block)
    ons = [r for r in out if r[1] == 0x90]
    assert len(ons) == len(notes)
    fpb = period * 24
    g = proc.current.preset.groove
    for (k, f), row in zip(notes, ons):
        beat = k / 4.0
        want = f + math.floor((float(g.forward(beat)) - beat) * fpb + 1e-6) + lat
        assert row[0] == want, (k, row[0], want)
    assert all(r[1] != 0xF8 for r in out)  # clock is consumed, not echoed


def test_clock_out_sends_start_and_24_clocks_a_beat():
    kern = kernel([GrooveProcessor(groove.straight())], send_clock=True)
    fpb = SR * 60.0 / 120.0
    out = run(kern, [(10, 0xFA, 0, 0)], int(2 * fpb), block=256)
    assert out[0] == (10, 0xFA, 0, 0)
    clocks = [f for f, s, _a, _b in out if s == 0xF8 and f < 10 + 2 * fpb]
    assert len(clocks) == 48
    want = [10 + round(i * fpb / 24) for i in range(48)]
    assert clocks == want
    out = run(kern, [], 512, commands={0: [("stop",)]}, start_frame=int(2 * fpb) // 256 * 256 + 256)
    assert (int(2 * fpb) // 256 * 256 + 256, 0xFC, 0, 0) in out


def test_the_click_adds_into_the_audio_on_each_beat():
    kern = kernel([GrooveProcessor(groove.straight())], click=True)
    fpb = int(SR * 60.0 / 120.0)
    _out, audio = run(kern, [(0, 0xFA, 0, 0)], 3 * fpb, block=256, audio=True)
    loud = np.flatnonzero(np.abs(audio) > 1e-3)
    onsets = [int(loud[0])] + [int(b) for a, b in zip(loud[:-1], loud[1:]) if b - a > 100]
    assert onsets[:3] == [1, fpb + 1, 2 * fpb + 1] or onsets[:3] == [0, fpb, 2 * fpb]
    kern2 = kernel([GrooveProcessor(groove.straight())])
    _out, silent = run(kern2, [(0, 0xFA, 0, 0)], fpb, block=256, audio=True)
    assert not silent.any()


def test_a_timeline_follows_a_steady_midi_clock():
    from engine.host.scheduler import Timeline

    starts = np.arange(0.0, 6.0, 0.5)
    tl = Timeline.from_arrays(
        src_beat=starts,
        end_beat=starts + 0.25,
        kind=np.full(starts.size, 0x90),
        key=np.full(starts.size, 36),
    )
    kern = kernel([GrooveProcessor(groove.straight())], sync="midi", timeline=tl)
    period = SR * 60.0 / (100.0 * 24)
    clocks = [1000 + int(round(i * period)) for i in range(24 * 8)]
    events = [(100, 0xFA, 0, 0)] + [(f, 0xF8, 0, 0) for f in clocks]
    out = run(kern, events, clocks[-1], block=256)
    ons = [r[0] for r in out if r[1] == 0x90]
    want = [clocks[int(round(b * 24))] for b in starts]
    assert len(ons) == len(want)
    assert max(abs(a - b) for a, b in zip(ons, want)) <= 1  # frames: on the clock's beat
