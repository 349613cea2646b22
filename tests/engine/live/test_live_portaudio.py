"""``groove live --backend portaudio`` on this machine: PortAudio's JACK host API
is the clock (no sound card here) and rtmidi's JACK API the ports.

rtmidi gives no frame offsets: its JACK input stamps every message of a cycle
with the same time, and its JACK output writes everything at offset 0 of the
next cycle, so on top of the backend's constant one-block latency each end
adds up to one JACK period.  Hence the bounds: 99 % of events within one
block + 2 ms of ``expected + one block`` (the issue's contract), and every
event within 50 ms (a preempted sender thread on a shared machine).
(With ALSA or CoreMIDI ports neither end is quantised.)
"""

import itertools
import re

import numpy as np
import pytest

from tests.groove.reference import ref_swing

from .jack_harness import START, JackHarness, LiveProcess, balance, expected_events, match_notes

pytestmark = pytest.mark.live
_names = itertools.count()


@pytest.fixture
def session(portaudio_on_jack):
    """A portaudio-backend session and a harness wired to it."""
    name = f"gp{next(_names)}"
    h = JackHarness(f"hp{next(_names)}")
    p = LiveProcess(
        "--backend",
        "portaudio",
        "--midi-api",
        "jack",
        "--block",
        h.block_frames,
        "--name",
        name,
        "-p",
        "swing16-62",
    )
    try:
        p.ready = p.wait_ready()
        h.connect(f"{name}:midi_in", f"{name}-out:midi_out")
        yield p, h
    finally:
        p.terminate()
        h.close()


def test_groove_live_portaudio_runs_the_compiled_kernel(session):
    p, _h = session
    assert "compiled kernel" in p.ready and "NOT real-time safe" not in p.ready, p.ready


def test_events_within_one_block_plus_2ms(session):
    p, h = session
    sr, block = h.sample_rate, h.block_frames
    rng = np.random.default_rng(8)
    notes = [(1000 + f, b) for f, b in note_pattern_spread(rng, sr)]
    base = h.play([(1000, bytes((START,)))] + notes)
    assert h.wait_sent()
    h.wait_frames(int(0.3 * sr))
    p.terminate()
    exp = expected_events(
        [(base + f, b) for f, b in notes], base + 1000, sr / 2, ref_swing(62, "1/16").forward, 0.0
    )
    err, missing, extra = match_notes(exp, h.received)
    assert missing == 0 and extra == []
    jitter = np.abs(err - block)  # the backend's constant latency is one block
    bound = block + 0.002 * sr
    assert np.percentile(jitter, 99) <= bound
    # The worst single event also depends on the OS scheduler of a shared
    # machine (rtmidi's sender is an ordinary thread): one preempted send can
    # be 10 ms late. Bound it loosely, so that only a real fault fails here.
    assert jitter.max() <= 0.05 * sr
    assert balance(h.received) == {}


def note_pattern_spread(rng, sr):
    from .jack_harness import note_pattern

    return note_pattern(rng, 200, int(3 * sr))


def test_nothing_lost_that_was_not_reported(session):
    p, h = session
    sr = h.sample_rate
    n = 5000  # 1,000 notes/s for 5 s
    starts = 1000 + np.arange(n) * int(sr / 1000)
    notes = []
    for k, f in enumerate(starts):
        notes.append((int(f), bytes((0x90, 20 + k % 80, 100))))
        notes.append((int(f) + 2000, bytes((0x80, 20 + k % 80, 0))))
    notes.sort(key=lambda e: e[0])
    h.play([(1000, bytes((START,)))] + notes)
    assert h.wait_sent()
    h.wait_frames(int(0.3 * sr))
    p.terminate()
    line = p.wait_for("stopped", 10)
    dropped = int(re.search(r"dropped (\d+)", line).group(1))
    got = sum(1 for _, b in h.received if b[0] & 0xF0 in (0x80, 0x90))
    assert got + dropped == len(notes), line
    assert balance(h.received) == {} or dropped > 0
