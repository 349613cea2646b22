"""Racks: YAML files, the built-in processors, and a plugin through its entry point."""

import pytest

import groove
from engine.host.engine import Engine
from engine.host.events import CONTROL_CHANGE, NOTE_OFF, NOTE_ON
from engine.host.processor import Block, Rack
from engine.host.processors import (
    FilterProcessor,
    GrooveProcessor,
    HumanizeProcessor,
    QuantizeProcessor,
    TransposeProcessor,
    VelocityProcessor,
)
from engine.host.rack_file import RackError, build_processor, load_rack, registry


def block_with(events, frames=256, playing=True, start_beat=0.0, bpm=120.0, sr=48000.0):
    b = Block(
        frames=frames,
        sample_rate=sr,
        start_beat=start_beat,
        beats_per_frame=bpm / 60.0 / sr,
        playing=playing,
    )
    for e in events:
        b.events_in.push(*e)
    return b


def run_one(proc, events, **kw):
    proc.prepare(48000, 4096)
    b = block_with(events, **kw)
    proc.process(b)
    return b.events_out.view().copy()


def test_velocity_curve_and_clamp():
    out = run_one(
        VelocityProcessor(scale=2.0, max=100),
        [(0, NOTE_ON, 0, 60, 40), (5, NOTE_ON, 0, 61, 90), (9, NOTE_OFF, 0, 60, 0)],
    )
    assert out["value"].tolist() == [80, 100, 0]


def test_filter_keeps_only_matching_events():
    events = [
        (0, NOTE_ON, 9, 36, 100),
        (1, NOTE_ON, 0, 60, 100),
        (2, CONTROL_CHANGE, 9, 1, 5),
        (3, NOTE_OFF, 9, 36, 0),
    ]
    out = run_one(FilterProcessor(channels=[10], notes=[36]), events)
    assert [(int(e["kind"]), int(e["key"])) for e in out] == [
        (NOTE_ON, 36),
        (CONTROL_CHANGE, 1),
        (NOTE_OFF, 36),
    ]


def test_transpose_keeps_note_off_with_its_note_on():
    proc = TransposeProcessor(semitones=12)
    proc.prepare(48000, 4096)
    b = block_with([(0, NOTE_ON, 0, 60, 100)])
    proc.process(b)
    assert b.events_out.view()["key"].tolist() == [72]
    proc.set(-5)  # changed while the note sounds
    b = block_with([(0, NOTE_OFF, 0, 60, 0), (1, NOTE_ON, 0, 60, 100)])
    proc.process(b)
    assert b.events_out.view()["key"].tolist() == [72, 55]


def test_quantize_live_delays_to_the_grid_with_latency():
    proc = QuantizeProcessor(grid="1/16", amount=1.0)
    # an event 0.1 beat in at 120 BPM (frame 2400) goes to the 16th at 0.0 + latency 0.125
    out = run_one(proc, [(2400, NOTE_ON, 0, 60, 100)], frames=24000)
    assert out.shape[0] == 1
    assert out["frame"][0] == 3000  # (0.0 + 0.125 beat) * 24000 frames per beat


def test_groove_processor_delays_live_events_by_the_groove():
    proc = GrooveProcessor(groove.swing(58))
    out = run_one(proc, [(6000, NOTE_ON, 0, 60, 100)], frames=24000)  # beat 0.25
    assert out["frame"].tolist() == [round(0.29 * 24000)]


def test_humanize_is_deterministic_for_a_seed():
    a = run_one(HumanizeProcessor(time_ms=10, seed=3), [(1000, NOTE_ON, 0, 60, 100)], frames=24000)
    b = run_one(HumanizeProcessor(time_ms=10, seed=3), [(1000, NOTE_ON, 0, 60, 100)], frames=24000)
    assert a["frame"].tolist() == b["frame"].tolist()


def test_rack_file_builds_processors(tmp_path):
    path = tmp_path / "rack.yaml"
    path.write_text(
        "- processor: quantize\n  grid: 1/8\n  amount: 0.5\n"
        "- processor: velocity\n  curve: 0.8\n  bypass: true\n"
    )
    rack = load_rack(path)
    assert [p.name for p in rack.processors] == ["quantize", "velocity"]
    assert rack.processors[0].grid_beat == 0.5 and rack.processors[1].bypass


@pytest.mark.parametrize(
    "text, expected",
    [
        ("- processor: quantise\n", "did you mean 'quantize'"),
        ("- processor: quantize\n  gird: 1/8\n", "did you mean 'grid'"),
        ("- processor: quantize\n  amount: 3\n", "amount"),
        ("processor: quantize\n", "a rack is a non-empty list"),
        ("- processor: [unclosed\n", "not valid YAML"),
        ("- processor: velocity\n- processor: nope\n", ":2:3: unknown processor"),
    ],
)
def test_bad_rack_files_name_file_line_and_fix(tmp_path, text, expected):
    path = tmp_path / "rack.yaml"
    path.write_text(text)
    with pytest.raises(RackError) as err:
        load_rack(path)
    assert str(err.value).startswith(str(path)) and expected in str(err.value)
    assert "\n" not in str(err.value)


def test_example_plugin_loads_through_its_entry_point():
    """examples/plugin is installed by `make setup`; the rack names it `echo`."""
    reg = registry()
    if "echo" not in reg:
        pytest.skip("the example plugin is not installed (pip install -e examples/plugin)")
    echo = build_processor({"processor": "echo", "delay_beat": 0.5, "feedback": 0.5})
    out = run_one(echo, [(0, NOTE_ON, 0, 60, 100), (100, NOTE_OFF, 0, 60, 0)], frames=24000)
    ons = out[out["kind"] == NOTE_ON]
    assert ons["frame"].tolist() == [0, 12000] and ons["value"].tolist() == [100, 50]


def test_engine_runs_a_rack_with_the_plugin_on_a_timeline():
    if "echo" not in registry():
        pytest.skip("the example plugin is not installed (pip install -e examples/plugin)")
    from engine.host.scheduler import Timeline

    tl = Timeline.from_arrays(
        src_beat=[0.0, 1.0], end_beat=[0.5, 1.5], kind=[NOTE_ON] * 2, key=[60, 62]
    )
    rack = Rack(
        [
            GrooveProcessor(groove.swing(60)),
            build_processor({"processor": "echo", "delay_beat": 0.25}),
        ]
    )
    eng = Engine(rack, tl)
    eng.prepare(48000, 512)
    eng.transport.play()
    kinds = []
    for _ in range(200):
        kinds.extend(eng.process(512).view()["kind"].tolist())
    assert kinds.count(NOTE_ON) == 4 and kinds.count(NOTE_OFF) == 4
