"""Issue 11's scenarios end to end: ``groove live`` on the native JACK path (real dummy server).

A rack of quantize (1/16, full) then swing16-58: every note comes out at
f + floor((T(q(t)) - t) * frames_per_beat) + L to the frame, so 16th
off-beats land at 0.29 beats after quantizing (not at 0.27, where applying
the groove to the delayed q(t) + L put them).  Then: MIDI clock following,
a pedal-up pending at Stop, ``--cc quantize``, humanized legato.
"""

import itertools
import math

import numpy as np
import pytest

from engine.presets import load as load_preset
from groove.transform import quantize_beat

from .jack_harness import START, JackHarness, LiveProcess

pytestmark = pytest.mark.live
_names = itertools.count()

RACK = """\
- processor: quantize
  grid: 1/16
  amount: 1.0
- processor: groove
  preset: swing16-58
"""


def test_quantize_then_groove_through_groove_live_is_exact(jack_server, tmp_path):
    rack = tmp_path / "rack.yaml"
    rack.write_text(RACK)
    name = f"gq{next(_names)}"
    h = JackHarness(f"hq{next(_names)}")
    p = LiveProcess("--name", name, "--rack", rack, env={"JACK_DEFAULT_SERVER": jack_server})
    try:
        ready = p.wait_ready()
        assert "real-time safe" in ready and "NOT" not in ready, ready
        h.connect(f"{name}:midi_in", f"{name}:midi_out")
        sr = h.sample_rate
        fpb = sr * 60.0 / 120.0
        lat = math.ceil(0.125 * fpb - 1e-9) + 1  # quantize's largest early move (+1 frame)
        rng = np.random.default_rng(4)
        beats = np.arange(1, 33) * 0.25 + rng.uniform(-0.08, 0.08, 32)
        notes = []
        for i, b in enumerate(beats):
            f = 1000 + int(round(b * fpb))
            notes += [
                (f, bytes((0x90, 40 + i % 40, 100))),
                (f + 600, bytes((0x80, 40 + i % 40, 0))),
            ]
        base = h.play([(1000, bytes((START,)))] + sorted(notes, key=lambda e: e[0]))
        assert h.wait_sent()
        h.wait_frames(int(0.5 * sr) + lat)
    finally:
        p.terminate()
        h.close()
    g = load_preset("swing16-58").groove
    ons = [(f, b) for f, b in h.received if b[0] == 0x90]
    assert len(ons) == 32
    for i, b in enumerate(beats):
        f_rel = int(round(b * fpb))
        t = f_rel / fpb
        x = float(g.forward(quantize_beat(t, 0.25, 1.0)))
        want = base + 1000 + f_rel + math.floor((x - t) * fpb + 1e-6) + lat
        assert ons[i][0] == want, (i, ons[i][0] - want)
    offs = [f for f, b in h.received if b[0] == 0x80]
    assert len(offs) == 32


def run_live(jack_server, tmp_path, args, events, tail_frames, rack=None):
    """Play (frame, bytes) into ``groove live ARGS``; returns (base, received, sample rate)."""
    if rack is not None:
        path = tmp_path / "rack.yaml"
        path.write_text(rack)
        args = [*args, "--rack", path]
    name = f"gq{next(_names)}"
    h = JackHarness(f"hq{next(_names)}")
    p = LiveProcess("--name", name, *args, env={"JACK_DEFAULT_SERVER": jack_server})
    try:
        ready = p.wait_ready()
        assert "real-time safe" in ready and "NOT" not in ready, ready
        h.connect(f"{name}:midi_in", f"{name}:midi_out")
        base = h.play(sorted(events, key=lambda e: e[0]))
        assert h.wait_sent()
        h.wait_frames(tail_frames)
    finally:
        p.terminate()
        h.close()
    return base, h.received, h.sample_rate


def test_notes_on_a_midi_clock_land_on_its_grooved_beat(jack_server, tmp_path):
    period = 48000 * 60.0 / (100.0 * 24)
    clocks = [2000 + int(round(i * period)) for i in range(24 * 6)]
    events = [(1000, bytes((START,)))] + [(f, bytes((0xF8,))) for f in clocks]
    for k in range(20):
        f = clocks[6 * k]
        events += [(f, bytes((0x90, 50 + k % 8, 100))), (f + 400, bytes((0x80, 50 + k % 8, 0)))]
    events.sort(key=lambda e: (e[0], e[1][0] != 0xF8))
    base, got, sr = run_live(
        jack_server, tmp_path, ["-p", "swing16-58", "--sync", "midi"], events, 6000
    )
    assert sr == 48000
    g = load_preset("swing16-58").groove
    ons = [f for f, b in got if b[0] == 0x90]
    assert len(ons) == 20
    for k, f_out in enumerate(ons):
        want = (
            base
            + clocks[6 * k]
            + math.floor((float(g.forward(k / 4)) - k / 4) * period * 24 + 1e-6)
        )
        assert f_out == want, (k, f_out - want)


def test_a_pedal_up_pending_at_stop_is_sent_then_the_pedal_released(jack_server, tmp_path):
    rack = "- processor: quantize\n  grid: 1/4\n  amount: 1.0\n"  # L = half a beat
    events = [
        (1000, bytes((START,))),
        (1100, bytes((0x90, 60, 100))),
        (1200, bytes((0xB0, 64, 127))),
    ]
    events += [(9000, bytes((0xB0, 64, 0))), (16000, bytes((0xFC,)))]  # note on, pedal-up queued
    _base, got, _sr = run_live(jack_server, tmp_path, [], events, 30000, rack=rack)
    msgs = [b for _f, b in got]
    assert bytes((0xB0, 64, 127)) in msgs
    i = msgs.index(bytes((0xB0, 64, 0)))
    assert msgs[i : i + 4] == [  # the pending pedal-up, then the panic: safety net first
        bytes((0xB0, 64, 0)),
        bytes((0xB0, 64, 0)),
        bytes((0xB0, 123, 0)),
        bytes((0x80, 60, 0)),
    ]


def test_cc_quantize_moves_notes_live(jack_server, tmp_path):
    fpb = 24000
    a, b = 1000 + int(1.06 * fpb), 1000 + int(2.06 * fpb)
    events = [(1000, bytes((START,))), (a, bytes((0x90, 60, 100))), (a + 100, bytes((0x80, 60, 0)))]
    events += [(1000 + int(1.5 * fpb), bytes((0xB0, 20, 127)))]
    events += [(b, bytes((0x90, 61, 100))), (b + 100, bytes((0x80, 61, 0)))]
    base, got, _sr = run_live(
        jack_server, tmp_path, ["-p", "straight", "--cc", "quantize=20"], events, 30000
    )
    lat = math.ceil(0.125 * fpb - 1e-9) + 1
    ons = [f for f, m in got if m[0] == 0x90]
    assert ons == [base + a + lat, base + 1000 + 2 * fpb + lat]


def test_humanized_legato_keeps_lengths_and_never_cuts_a_note(jack_server, tmp_path):
    rack = "- processor: humanize\n  time_ms: 10\n  seed: 3\n"
    six = 6000
    events = [(1000, bytes((START,)))]
    for i in range(48):
        on = 2000 + i * six
        events += [(on + six, bytes((0x80, 60, 0))), (on, bytes((0x90, 60, 100)))]
    events.sort(key=lambda e: (e[0], e[1][0] == 0x90))
    _base, got, _sr = run_live(jack_server, tmp_path, [], events, 30000, rack=rack)
    depth, on_at, lengths = 0, None, []
    for f, m in got:
        if m[0] == 0x90:
            depth += 1
            on_at = f
        elif m[0] == 0x80:
            depth -= 1
            lengths.append(f - on_at)
        assert depth in (0, 1)
    assert depth == 0 and len(lengths) == 48
    kept = sum(n == six for n in lengths)
    assert kept + sum(n < six for n in lengths) == 48 and kept >= 12


@pytest.mark.parametrize(
    "args, covers",
    [
        (["--sync", "midi"], "covers 60 bpm and faster"),
        (["--sync", "midi", "--min-bpm", "90"], "covers 90 bpm and faster"),
        (["--bpm", "100"], "covers 100 bpm and faster"),
    ],
)
def test_the_ready_line_says_what_tempo_the_fixed_latency_covers(jack_server, args, covers):
    name = f"gq{next(_names)}"
    p = LiveProcess(
        "--name", name, "-p", "swing16-58", *args, env={"JACK_DEFAULT_SERVER": jack_server}
    )
    try:
        ready = p.wait_ready()
    finally:
        p.terminate()
    assert covers in ready, ready


def test_a_reload_of_an_equal_preset_builds_and_swaps_nothing():
    from engine.host.live_kernel import LiveKernel
    from engine.host.processors import rack_for_preset
    from engine.live.control import CCMap
    from engine.live.paths import KernelPath

    preset = load_preset("swing16-58")
    kern = LiveKernel.build(rack_for_preset(preset), sample_rate=48000, max_block=256)
    path = KernelPath(kern, None, preset)
    cc = CCMap({})
    assert path.reload(None, load_preset("swing16-58"), cc, None) is False
    assert kern.generation == 0
    assert path.reload(None, load_preset("swing16-62"), cc, None) is True
    assert kern.generation == 1
