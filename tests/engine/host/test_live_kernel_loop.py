"""Loops and seeks in the live kernel: every note once per pass, nothing at the loop end."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groove
from engine.host.engine import Engine
from engine.host.processor import Rack
from engine.host.processors import GrooveProcessor
from engine.host.scheduler import Timeline

from .live_kernel_harness import SR, kernel, notes_of, run


def grid_timeline(step_beat, upto_beat):
    starts = np.arange(0.0, upto_beat + 1e-9, step_beat)
    return Timeline.from_arrays(
        src_beat=starts,
        end_beat=starts + step_beat / 2,
        kind=np.full(starts.size, 0x90),
        key=36 + (np.arange(starts.size) % 4),
        channel=np.full(starts.size, 9),
    )


def expected_ons(tl, loop_start, loop_end, bpm, passes):
    bpf = bpm / 60.0 / SR
    per_pass = max(1, math.ceil((loop_end - loop_start) / bpf - 1e-9))
    want = []
    for k in range(passes):
        for src, key in zip(tl.src_beat, tl.key):
            if loop_start <= src < loop_end:
                f = k * per_pass + math.floor((src - loop_start) / bpf + 1e-6)
                if f < (k + 1) * per_pass:
                    want.append((f, int(key)))
    return sorted(want), per_pass


def loop_run(tl, loop_start, loop_end, bpm, block, passes, events=()):
    kern = kernel([GrooveProcessor(groove.straight())], timeline=tl, bpm=bpm)
    _, per_pass = expected_ons(tl, loop_start, loop_end, bpm, 1)
    cmds = {0: [("tempo", bpm), ("loop", loop_start, loop_end), ("seek", loop_start), ("play",)]}
    out = run(kern, list(events), passes * per_pass, block=block, commands=cmds)
    return kern, out


def test_a_four_beat_loop_at_130_bpm_plays_its_downbeat_every_pass_and_never_its_end():
    tl = grid_timeline(0.5, 8.0)  # a note at 0 (downbeat) and one exactly at 4 (the loop end)
    kern, out = loop_run(tl, 0.0, 4.0, 130.0, 256, passes=5)
    want, per_pass = expected_ons(tl, 0.0, 4.0, 130.0, 5)
    ons = sorted((f, k) for f, s, k, v in out if s & 0xF0 == 0x90 and v and f < 5 * per_pass)
    assert ons == want
    downbeats = [f for f, k in ons if (f % per_pass) == 0]
    assert len(downbeats) == 5
    notes = [n for n in notes_of(out) if n[0] < 5 * per_pass]
    assert all(off > on for on, off, _k, _v in notes)  # no zero-length note at the loop end
    assert len(notes) == len(ons)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    loop_len=st.sampled_from([0.75, 1.0, 1.3, 2.0, 3.5, 4.0]),
    loop_start=st.sampled_from([0.0, 0.5, 1.0]),
    block=st.sampled_from([32, 64, 100, 256, 1024]),
    bpm=st.sampled_from([61.0, 97.5, 120.0, 130.0, 177.0]),
    step=st.sampled_from([0.25, 0.5, 1 / 3]),
)
def test_every_note_in_a_loop_sounds_once_per_pass(loop_len, loop_start, block, bpm, step):
    end = loop_start + loop_len
    tl = grid_timeline(step, end + 1.0)
    passes = 3
    kern, out = loop_run(tl, loop_start, end, bpm, block, passes)
    want, per_pass = expected_ons(tl, loop_start, end, bpm, passes)
    upto = passes * per_pass
    ons = sorted((f, k) for f, s, k, v in out if s & 0xF0 == 0x90 and v and f < upto)
    assert ons == want
    run(kern, [], 256, commands={0: [("stop",)]}, start_frame=10**7)
    assert kern.poll()["sounding"] == 0


def test_live_input_while_looping_is_never_stranded():
    tl = grid_timeline(1.0, 2.0)
    bpf = 120.0 / 60.0 / SR
    per_pass = math.ceil(1.0 / bpf - 1e-9)
    live = [(per_pass - 50, 0x90, 70, 100), (per_pass + 300, 0x80, 70, 0)]
    kern, out = loop_run(tl, 0.0, 1.0, 120.0, 256, passes=3, events=live)
    assert (per_pass - 50, 0x90, 70, 100) in out
    assert (per_pass + 300, 0x80, 70, 0) in out


@pytest.mark.parametrize("block", [256, 100])
def test_the_python_engine_loop_plays_its_downbeat_every_pass_and_never_its_end(block):
    """The same defect on the Python path (Engine + Scheduler + Transport)."""
    tl = grid_timeline(0.5, 8.0)
    eng = Engine(Rack([GrooveProcessor(groove.straight())]), timeline=tl)
    eng.prepare(SR, 4096)
    eng.transport.set_tempo(130.0)
    eng.transport.set_loop(0.0, 4.0)
    eng.transport.play()
    want, per_pass = expected_ons(tl, 0.0, 4.0, 130.0, 5)
    ons = []
    for k in range(5 * per_pass // block + 1):
        out = eng.process(block)
        for e in out.view():
            if e["kind"] == 0x90 and k * block + int(e["frame"]) < 5 * per_pass:
                ons.append((k * block + int(e["frame"]), int(e["key"])))
    assert sorted(ons) == want
