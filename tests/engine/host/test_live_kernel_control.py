"""The live kernel's controls: CC-mapped params, reloads, stop/seek/panic, no compiling."""

import numba
import numpy as np

import groove
from engine.host import (
    _lk_bank,
    _lk_block,
    _lk_chain,
    _lk_clock,
    _lk_math,
    _lk_release,
    _lk_timeline,
    _lk_transport,
    ring,
)
from engine.host.live_kernel import warmup_block
from engine.host.processors import (
    FilterProcessor,
    GrooveProcessor,
    HumanizeProcessor,
    QuantizeProcessor,
    TransposeProcessor,
    VelocityProcessor,
)
from engine.host.scheduler import Timeline
from engine.presets import load as load_preset
from engine.presets.model import Amounts, Preset

from .live_kernel_harness import SR, fpb, kernel, notes_of, run, start_row

FPB = fpb(120.0)


def bf(beat):
    return int(round(beat * FPB))


def test_cc_quantize_moves_notes_from_the_ccs_frame():
    preset = Preset.from_groove(groove.straight())
    kern = kernel([GrooveProcessor(preset)], cc_map={20: "quantize"})
    lat = kern.latency_frame
    assert lat == int(np.ceil(0.5 * 0.25 * FPB - 1e-9)) + 1  # reachable: quantize at CC 127
    a, b = bf(1.06), bf(2.06)
    events = [start_row(0), (a, 0x90, 60, 100), (a + 100, 0x80, 60, 0)]
    events += [(bf(1.5), 0xB0, 20, 127), (b, 0x90, 61, 100), (b + 100, 0x80, 61, 0)]
    out = run(kern, events, bf(4))
    assert all(r[1] != 0xB0 for r in out)  # a mapped CC is consumed
    notes = notes_of(out)
    assert notes[0][0] == a + lat  # before the CC: not quantized
    assert notes[1][0] == bf(2.0) + lat  # after: on the grid
    assert notes[1][1] - notes[1][0] == 100  # the end kept its length


def test_cc_timing_changes_at_the_ccs_frame():
    preset = load_preset("swing16-58")
    kern = kernel([GrooveProcessor(preset)], cc_map={1: "timing"})
    f1, f2 = bf(0.25), bf(1.25)
    events = [start_row(0), (f1, 0x90, 60, 100), (f1 + 50, 0x80, 60, 0)]
    events += [(f2 - 1, 0xB0, 1, 0), (f2, 0x90, 61, 100), (f2 + 50, 0x80, 61, 0)]
    notes = notes_of(run(kern, events, bf(3)))
    lat = kern.latency_frame
    swing = float(preset.groove.forward(0.25)) - 0.25
    assert notes[0][0] == f1 + int(np.floor(swing * FPB + 1e-6)) + lat
    assert notes[1][0] == f2 + lat  # timing 0 from the CC on


def test_a_reload_that_needs_more_latency_never_reorders_and_says_so():
    kern = kernel([GrooveProcessor(groove.straight())])
    assert kern.latency_frame == 0
    early = groove.template([0.0, -0.4, 0.0, 0.0], grid="1/16", period=1)  # 0.1 beat early
    events = [start_row(0)]
    keys = []
    for i in range(40):
        f = 500 + i * int(0.025 * SR)
        events += [(f, 0x90, 30 + i, 100), (f + 200, 0x80, 30 + i, 0)]
        keys.append(30 + i)
    blocks = 500 + 40 * int(0.025 * SR) + 2000
    commands = {10: [("_load", early)]}
    out = []
    k_cmd = dict(commands)

    class Proxy:
        def __init__(self, k):
            self.k = k

        def command(self, name, *v):
            if name == "_load":
                self.k.load_groove(Preset.from_groove(v[0]))
            else:
                self.k.command(name, *v)

        def __getattr__(self, name):
            return getattr(self.k, name)

    out = run(Proxy(kern), events, blocks, commands=k_cmd)
    ons = [r[2] for r in out if r[1] == 0x90]
    assert ons == keys  # in the order played
    frames = [r[0] for r in out]
    assert frames == sorted(frames)
    st = kern.poll()
    assert st["late"] > 0
    assert st["needs_latency_ms"] is not None and st["needs_latency_ms"] >= 0.1 * 500 - 1e-6
    assert st["generation"] == 1 and not st["swap_pending"]


def test_transpose_follows_each_note_not_the_key():
    kern = kernel([TransposeProcessor(2)])
    events = [start_row(0), (100, 0x90, 60, 100)]
    out1 = run(kern, events, 256)
    kern.load_rack(type(kern.rack)([TransposeProcessor(5)]))
    out2 = run(
        kern, [(300, 0x90, 60, 90), (400, 0x80, 60, 0), (500, 0x80, 60, 0)], 512, start_frame=256
    )
    rows = out1 + out2
    assert [(r[1], r[2]) for r in rows] == [(0x90, 62), (0x90, 65), (0x80, 62), (0x80, 65)]


def test_velocity_and_filter_stages():
    vp = VelocityProcessor(scale=0.5)
    kern = kernel([vp, FilterProcessor(channels=[1])])
    events = [
        start_row(0),
        (10, 0x90, 60, 100),
        (20, 0x91, 61, 100),
        (30, 0x80, 60, 0),
        (40, 0x81, 61, 0),
    ]
    out = run(kern, events, 256)
    assert out == [(10, 0x90, 60, int(vp._table[100])), (30, 0x80, 60, 0)]


def test_stop_sends_the_pending_pedal_up_then_ends_notes_and_releases_the_pedal():
    kern = kernel([QuantizeProcessor("1/4", 1.0)])  # L = 1/8 beat: events wait in the delay line
    lat = kern.latency_frame
    events = [start_row(0), (100, 0x90, 60, 100), (110, 0xB0, 64, 127), (lat + 300, 0xB0, 64, 0)]
    out = run(kern, events, lat + 1024, commands={(lat + 300) // 256 + 1: [("stop",)]})
    kinds = [(r[1], r[2], r[3]) for r in out]
    assert (0xB0, 64, 0) in kinds  # the pending pedal-up went out
    i_up = kinds.index((0xB0, 64, 0))
    # then the safety net first (pedal-up, All Notes Off), then each sounding note's note-off
    assert kinds[i_up + 1 :] == [(0xB0, 64, 0), (0xB0, 123, 0), (0x80, 60, 0)]
    assert kern.poll()["sounding"] == 0


def test_seek_and_panic_end_every_note_and_quit_goes_quiet():
    kern = kernel([GrooveProcessor(groove.straight())])
    out = run(kern, [start_row(0), (10, 0x90, 60, 100), (20, 0x91, 62, 100)], 256)
    out += run(kern, [], 256, commands={0: [("seek", 8.0)]}, start_frame=256)
    offs = sorted((r[1], r[2]) for r in out if r[1] & 0xF0 == 0x80)
    assert offs == [(0x80, 60), (0x81, 62)]
    assert kern.poll()["sounding"] == 0
    out = run(kern, [(5, 0x90, 61, 100)], 256, commands={0: [("panic",)]}, start_frame=512)
    out += run(kern, [], 256, commands={0: [("quit",)]}, start_frame=768)
    assert (768, 0x80, 61, 0) in out and kern.quit_done
    assert run(kern, [(5, 0x90, 61, 100)], 256, start_frame=1024) == []


def test_a_groove_swap_is_acknowledged_before_the_old_bank_is_reused():
    kern = kernel([GrooveProcessor(groove.straight())])
    kern.load_groove(Preset.from_groove(groove.swing(60)))
    kern.load_groove(Preset.from_groove(groove.swing(66)))  # waits for the first ack
    assert kern.poll()["swap_pending"]
    run(kern, [], 256)  # flips, acks; poll writes the queued one
    assert kern.generation == 2
    run(kern, [], 256)
    st = kern.poll()
    assert st["generation"] == 2 and not st["swap_pending"]


def _dispatchers():
    found = []
    for mod in (
        _lk_block,
        _lk_chain,
        _lk_clock,
        _lk_math,
        _lk_release,
        _lk_timeline,
        _lk_transport,
        ring,
    ):
        for v in vars(mod).values():
            if isinstance(v, numba.core.registry.CPUDispatcher):
                found.append(v)
    return found


def test_nothing_compiles_after_prepare():
    tl = Timeline.from_arrays(
        src_beat=np.arange(8) * 0.5,
        end_beat=np.arange(8) * 0.5 + 0.2,
        kind=np.full(8, 0x90),
        key=np.full(8, 36),
    )
    rack = [
        QuantizeProcessor("1/16", 0.5),
        HumanizeProcessor(5.0, velocity=3.0),
        GrooveProcessor(load_preset("swing16-58"), Amounts(velocity=0.5, random_ms=2.0)),
        VelocityProcessor(curve=0.8),
        FilterProcessor(channels=[1, 2, 10]),
        TransposeProcessor(1),
    ]
    kern = kernel(
        rack,
        cc_map={1: "timing", 2: "quantize", 3: "velocity", 4: "weight1"},
        timeline=tl,
        click=True,
        send_clock=True,
    )
    before = {id(d): len(d.signatures) for d in _dispatchers()}
    ist, fst = kern.istate.copy(), kern.fstate.copy()
    warmup_block(ist, fst, 256)
    rows = [start_row(0), (5, 0x90, 60, 100), (6, 0xB0, 1, 50), (7, 0xB0, 4, 50), (9, 0x80, 60, 0)]
    run(kern, rows, 2048, audio=True, commands={1: [("loop", 0.0, 1.0)], 3: [("stop",)]})
    kern.load_groove(load_preset("swing16-58"))
    run(kern, [], 512, start_frame=2048)
    after = {id(d): len(d.signatures) for d in _dispatchers()}
    assert after == before
    assert _lk_bank  # the bank writer is plain Python (nothing to compile)


def test_a_processor_whose_reset_raises_leaves_no_note_hanging_on_the_python_path():
    from engine.host.engine import Engine
    from engine.host.events import EventList
    from engine.host.live_kernel import LiveKernel, NotCompilable
    from engine.host.processor import Processor, Rack

    class Broken(Processor):
        name = "broken"

        def reset(self):
            raise RuntimeError("reset failed")

    rack = Rack([GrooveProcessor(groove.straight()), Broken()])
    try:
        LiveKernel.build(rack, sample_rate=SR, max_block=256)
        raise AssertionError("a Python processor must not compile")
    except NotCompilable as exc:
        assert "broken" in str(exc)
    eng = Engine(rack)
    eng.prepare(SR, 256)
    eng.transport.play()
    inp = EventList(16)
    inp.push(3, 0x90, 0, 60, 100)
    eng.process(256, inp)
    out = eng.panic(EventList(64))
    assert [(int(e["kind"]), int(e["key"])) for e in out.view()][:1] == [(0x80, 60)]
    assert rack.reset_errors == 1
