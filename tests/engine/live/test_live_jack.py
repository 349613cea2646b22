"""``groove live`` on JACK, end to end: exact frames for swing, a template and a blend.

The session runs in-process in a thread (its JACK client is a real client
of the test server); the harness's source plays MIDI Start and notes at
exact frames and its recorder takes what comes back.  Expected frames come
from the reference grooves in tests/groove/reference.py.
"""

import itertools
import threading
import time

import numpy as np
import pytest

import groove
from engine.live.session import LiveConfig, Session
from engine.presets.model import Preset
from tests.groove.reference import RefBlend, RefTemplate, ref_swing

from .jack_harness import (
    START,
    JackHarness,
    balance,
    clock_pattern,
    expected_events,
    match_notes,
    note_pattern,
)

pytestmark = pytest.mark.live
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
_names = itertools.count()


class FixedSource:
    """A groove source that is a Preset value (no file to load or watch)."""

    path = None

    def __init__(self, preset):
        self.preset = preset

    def load(self):
        return None, self.preset

    def label(self):
        return self.preset.name


class Lines:
    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.append(text)

    def flush(self):
        pass


def start_session(g, **cfg):
    name = f"gl{next(_names)}"
    out = Lines()
    session = Session(
        LiveConfig(preset="-", name=name, reload=False, status=False, **cfg),
        out=out,
        source=FixedSource(Preset.from_groove(g, name="test")),
    )
    result = []
    thread = threading.Thread(target=lambda: result.append(session.run()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while session.ready_sec is None and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert session.ready_sec is not None, "".join(out.lines)
    return session, thread, name


def stop_session(session, thread):
    session.stop()
    thread.join(10)
    assert not thread.is_alive()


@pytest.fixture
def harness(jack_server):
    h = JackHarness(f"h{next(_names)}")
    yield h
    h.close()


@pytest.mark.parametrize("case", list(CASES))
def test_internal_clock_every_event_within_one_frame(harness, case):
    g, ref = CASES[case][0](), CASES[case][1]()
    session, thread, name = start_session(g, bpm=120.0)
    try:
        harness.connect(f"{name}:midi_in", f"{name}:midi_out")
        sr = harness.sample_rate
        rng = np.random.default_rng(11)
        f_start = 1234
        notes = [(f_start + f, b) for f, b in note_pattern(rng, 120, int(2 * sr))]
        base = harness.play([(f_start, bytes((START,)))] + notes)
        assert harness.wait_sent()
        harness.wait_frames(int(0.5 * sr))  # latency and the last note-offs
        latency = session.latency_beat
    finally:
        stop_session(session, thread)
    assert harness.late_sends == 0
    exp = expected_events(
        [(base + f, b) for f, b in notes], base + f_start, sr * 60 / 120.0, ref.forward, latency
    )
    err, missing, extra = match_notes(exp, harness.received)
    assert missing == 0 and extra == []
    assert np.abs(err).max() <= 1.0 + 1e-6
    assert balance(harness.received) == {}


def test_midi_clock_sync_every_event_within_one_frame(harness):
    g, ref = CASES["blend"][0](), CASES["blend"][1]()
    session, thread, name = start_session(g, bpm=120.0, sync="midi")
    try:
        harness.connect(f"{name}:midi_in", f"{name}:midi_out")
        sr = harness.sample_rate
        bpm = 96.0
        fpb = sr * 60 / bpm
        clocks = clock_pattern(bpm, sr, 0, 24 * 8)
        f_start = clocks[48][0]
        rng = np.random.default_rng(5)
        notes = [(f_start + f, b) for f, b in note_pattern(rng, 120, int(5 * fpb))]
        events = (
            sorted(clocks[:48] + [(f_start, bytes((START,)))] + clocks[48:], key=lambda e: e[0])
            + notes
        )
        events.sort(key=lambda e: e[0])
        base = harness.play(events)
        assert harness.wait_sent()
        harness.wait_frames(int(sr / 2))
        latency = session.latency_beat
    finally:
        stop_session(session, thread)
    exp = expected_events(
        [(base + f, b) for f, b in notes], base + f_start, fpb, ref.forward, latency
    )
    err, missing, extra = match_notes(exp, harness.received)
    assert missing == 0 and extra == []
    assert np.abs(err).max() <= 1.5  # clocks are rounded to frames
    assert balance(harness.received) == {}


def test_cc_timing_zero_makes_it_straight(harness):
    session, thread, name = start_session(groove.swing(70), bpm=120.0, cc=["timing=1"])
    try:
        harness.connect(f"{name}:midi_in", f"{name}:midi_out")
        sr = harness.sample_rate
        harness.play([(0, bytes((0xB0, 1, 0)))], lead_sec=0.05)  # CC 1 = 0: timing 0 %
        harness.wait_frames(int(0.3 * sr))
        assert harness.received == []  # the mapped CC is consumed, not forwarded
        rng = np.random.default_rng(9)
        notes = [(500 + f, b) for f, b in note_pattern(rng, 60, int(sr))]
        base = harness.play([(500, bytes((START,)))] + notes)
        assert harness.wait_sent()
        harness.wait_frames(int(0.3 * sr))
    finally:
        stop_session(session, thread)
    exp = expected_events([(base + f, b) for f, b in notes], base + 500, sr / 2, lambda t: t, 0.0)
    err, missing, extra = match_notes(exp, harness.received)
    assert missing == 0 and extra == []
    # +-1 frame: the engine floors (t + 0) / beats_per_frame, which rounding can put at f - 1.
    assert np.abs(err).max() <= 1.0 + 1e-6
