"""60 s at 1,000 notes/s through ``groove live`` on JACK: nothing lost, nothing
duplicated, every note at its frame, nothing stuck.

Faster than real time: JACK's dummy driver derives its period from the wait
time, so ``-w`` cannot speed it up; instead a private server runs at 192 kHz
and the session at 480 bpm.  Every frame count is then exactly that of
48 kHz at 120 bpm (24,000 frames a beat, 48 frames between notes), the same
blocks carry the same events, and the clock runs up to four times faster
than real time (synchronous mode stretches a cycle the CPU cannot finish in
time instead of breaking it).  Without a private server it runs on the test
server, in real time, once.
"""

import os

import numpy as np
import pytest

from tests.groove.reference import ref_swing

from .conftest import _start_private, _stop_private
from .jack_harness import START, JackHarness, LiveProcess, balance, expected_events, match_notes

pytestmark = [pytest.mark.live, pytest.mark.slow]
MUSIC_SEC = 60
NOTES_PER_SEC = 1000


@pytest.fixture(scope="module")
def fast_server(jack_server):
    """(server name, speed-up) of a 192 kHz private server, else the test server at 1x."""
    try:
        exports = _start_private(f"groove-soak-{os.getpid()}", JACKD_RATE="192000")
    except Exception:
        yield jack_server, 1
        return
    yield exports["JACK_DEFAULT_SERVER"], 4
    _stop_private(exports)


def test_sixty_seconds_at_1000_notes_per_second(fast_server):
    server, speed = fast_server
    h = JackHarness("hsoak", server=server)
    p = LiveProcess(
        "--name",
        "gsoak",
        "-p",
        "swing16-62",
        "--bpm",
        120 * speed,
        env={"JACK_DEFAULT_SERVER": server},
    )
    try:
        p.wait_ready()
        h.connect("gsoak:midi_in", "gsoak:midi_out")
        frames_per_note = 48000 // NOTES_PER_SEC  # in 48 kHz frames: same at 192 kHz / 4x tempo
        rng = np.random.default_rng(4)
        n = MUSIC_SEC * NOTES_PER_SEC
        starts = 1000 + np.arange(n) * frames_per_note + rng.integers(0, frames_per_note, n)
        notes = []
        for k, f in enumerate(starts):
            key = 20 + k % 80  # a key comes back every 80 notes, long after its note-off
            notes.append((int(f), bytes((0x90, key, 1 + k % 127))))
            notes.append((int(f) + 2000, bytes((0x80, key, 0))))
        notes.sort(key=lambda e: e[0])
        base = h.play([(1000, bytes((START,)))] + notes, lead_sec=1.0 * speed)
        assert h.wait_sent(MUSIC_SEC * 3)
        h.wait_frames(int(0.2 * h.sample_rate))
    finally:
        p.terminate()
        h.close()
    assert h.late_sends == 0
    exp = expected_events(
        [(base + f, b) for f, b in notes], base + 1000, 24000.0, ref_swing(62, "1/16").forward, 0.0
    )
    err, missing, extra = match_notes(exp, h.received)
    assert missing == 0, "nothing lost"
    assert extra == [], "nothing duplicated"
    assert len(err) == len(notes)
    assert np.abs(err).max() <= 1.0 + 1e-6
    assert balance(h.received) == {}
    assert "dropped 0" in p.lines[-1]
