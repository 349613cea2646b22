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
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tests.groove.reference import ref_swing

from .jack_harness import (
    REPO,
    START,
    JackHarness,
    LiveProcess,
    balance,
    expected_events,
    match_notes,
)

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


# -- --synth: FluidSynth on the PortAudio device ---------------------------------
SYNTH_CHILD = r"""
import sys, threading
from engine.live.session import LiveConfig, Session

name, block, soundfont, preset = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = Session(LiveConfig(preset=preset, backend="portaudio", midi_api="jack", block_frames=block,
                       name=name, synth=True, soundfont=soundfont, reload=False, status=False))
t = threading.Thread(target=s.run)
t.start()
for line in sys.stdin:
    what = line.strip()
    if not what:
        break
    if s.path is not None and getattr(s.path, "kernel", None) is not None:
        s.path.kernel.command(what)
    elif s.path is not None:
        s.path.core.request(what)
    print("sent", what, flush=True)
s.stop()
t.join(20)
print("closed", flush=True)
"""


class SynthChild:
    """``groove live --backend portaudio --synth`` (a Session) in a child process;
    stdin lines are kernel commands (stop, panic), an empty line ends it."""

    def __init__(self, name, block, soundfont, preset, env=None):
        import os

        self.proc = subprocess.Popen(
            [sys.executable, "-c", SYNTH_CHILD, name, str(block), soundfont, preset],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_for(self, word, timeout_sec=120.0):
        deadline = time.monotonic() + timeout_sec
        while time.monotonic() < deadline:
            for line in self.lines:
                if word in line:
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {word!r}: {self.lines!r} {self.proc.stderr.read()!r}")

    def send(self, what):
        self.proc.stdin.write(what + "\n")
        self.proc.stdin.flush()
        self.wait_for(f"sent {what}", 10)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
        try:
            return self.wait_for("stopped", 20)
        finally:
            if self.proc.poll() is None:
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    self.proc.terminate()
                    self.proc.wait(10)


def _audio_outputs(client):
    return {p.name for p in client.get_ports(is_audio=True, is_output=True, is_physical=False)}


@pytest.fixture
def synth_session(portaudio_on_jack, request):
    """A portaudio --synth session (kernel or Python path), a harness on its MIDI ports and
    a recorder on the PortAudio client's first output (found as the ports it added)."""
    from engine.live.paths import PATH_ENV
    from tests.engine.audio.needs import soundfont_or_skip

    from .test_live_synth import AudioRecorder

    soundfont = soundfont_or_skip()
    path, preset = request.param
    name = f"gs{next(_names)}"
    h = JackHarness(f"hs{next(_names)}")
    rec = AudioRecorder(f"rs{next(_names)}", seconds=12.0)
    before = _audio_outputs(rec.client)
    child = SynthChild(name, h.block_frames, soundfont, preset, env={PATH_ENV: path})
    try:
        ready = child.wait_for("ready")
        assert "synth" in ready and "(stereo)" in ready, ready
        assert ("NOT real-time safe" in ready) == (path == "python"), ready
        added = sorted(_audio_outputs(rec.client) - before)
        assert len(added) == 2, added  # PortAudio's client: out_0, out_1
        rec.client.connect(added[0], rec.inp)
        h.connect(f"{name}:midi_in", f"{name}-out:midi_out")
        yield child, h, rec
    finally:
        child.close()
        rec.close()
        h.close()


BOTH = [("kernel", "swing16-62"), ("python", "swing16-62")]


@pytest.mark.parametrize("synth_session", BOTH, ids=["kernel", "python"], indirect=True)
def test_synth_sounds_on_the_portaudio_device_within_one_block_plus_2ms(synth_session):
    """Each note-on's sound on PortAudio's output starts from its grooved frame to one
    block after it (the backend's constant one-block input latency, less up to one JACK
    period because rtmidi's JACK input stamps a whole cycle alike), within 2 ms either
    way (FluidSynth's 64-frame grid, the drum's lead-in); the MIDI output goes on
    alongside."""
    child, h, rec = synth_session
    sr, block = h.sample_rate, h.block_frames
    step = int(0.3 * sr)  # far enough apart that each hit starts from near silence
    notes = []
    for i in range(10):
        f = 1000 + i * step + (i * 37) % block  # at every offset within a block
        notes.append((f, bytes((0x99, 37, 110))))
        notes.append((f + 2000, bytes((0x89, 37, 0))))
    base = h.play([(1000, bytes((START,)))] + notes)
    assert h.wait_sent()
    h.wait_frames(int(0.5 * sr))
    assert rec.errors == [] and h.errors == []
    exp = expected_events(
        [(base + f, b) for f, b in notes], base + 1000, sr / 2, ref_swing(62, "1/16").forward, 0.0
    )
    ons = [f for f, b in exp if b[0] == 0x99]
    got = [f for f, b in h.received if b[0] == 0x99 and b[2] > 0]
    assert len(got) == 10  # the MIDI output works alongside the synth
    x = np.abs(rec.audio)
    assert x.max() > 0.01  # it sounded
    errs = []
    for f in ons:
        i = int(round(f)) + block - rec.base  # where one block of latency puts it
        quiet = x[i - int(0.1 * sr) : i - int(0.02 * sr)].max()
        window = x[i - int(0.02 * sr) : i + int(0.05 * sr)]
        errs.append(int(np.flatnonzero(window > max(1e-4, 4 * quiet))[0]) - int(0.02 * sr))
    midi = [g - f for g, f in zip(sorted(got), ons)]
    print("onset - (grooved + block):", errs, "midi out - grooved:", [round(m) for m in midi])
    # between the grooved frame - 2 ms and one block + 2 ms after it
    assert all(-block - 0.002 * sr <= e <= 0.002 * sr for e in errs), errs


@pytest.mark.parametrize("what", ["stop", "panic"])
@pytest.mark.parametrize("synth_session", BOTH, ids=["kernel", "python"], indirect=True)
def test_synth_stop_and_panic_with_the_pedal_down_leave_nothing_ringing(synth_session, what):
    child, h, rec = synth_session
    sr = h.sample_rate
    organ = [(100, bytes((0xC0, 19))), (200, bytes((0xB0, 64, 127)))]
    notes = [(1000, bytes((0x90, 60, 100))), (1000, bytes((0x90, 67, 100)))]
    offs = [(4000, bytes((0x80, 60, 0))), (4000, bytes((0x80, 67, 0)))]  # the pedal holds
    h.play([(0, bytes((START,)))] + organ + notes + offs)
    assert h.wait_sent()
    h.wait_frames(int(0.5 * sr))
    at = h.frame_now()
    child.send(what)
    h.wait_frames(int(1.5 * sr))
    end = h.frame_now()
    assert rec.errors == [] and h.errors == []
    x = np.abs(rec.audio)
    before = x[at - rec.base - int(0.3 * sr) : at - rec.base].max()
    after = x[at - rec.base + int(1.0 * sr) : end - rec.base].max()
    assert before > 0.02  # the pedal held the notes up to the request
    assert after < 1e-3 * max(before, 1.0), (before, after)
    assert balance(h.received) == {}  # and the MIDI output ended them too
