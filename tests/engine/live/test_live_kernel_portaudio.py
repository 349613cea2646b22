"""The PortAudio backend on the compiled kernel (real JACK dummy server, rtmidi's JACK API).

The backend runs in a child process (PortAudio's JACK host API must not be
initialised in the test process, see conftest) with a LiveKernel instead of
a BlockCore; a JACK harness plays notes into it and records what comes out.
"""

import itertools
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tests.groove.reference import ref_swing

from .jack_harness import REPO, START, JackHarness, balance, expected_events, match_notes

pytestmark = pytest.mark.live
_names = itertools.count()

CHILD = r"""
import sys
from engine.host.live_kernel import LiveKernel
from engine.host.processors import rack_for_preset
from engine.live.backends import BackendOptions, get_backend
from engine.presets import load

name, block = sys.argv[1], int(sys.argv[2])
b = get_backend("portaudio", BackendOptions(name=name, midi_api="jack", block_frames=block))
b.open()
k = LiveKernel.build(
    rack_for_preset(load("swing16-62")), sample_rate=b.sample_rate, max_block=b.max_block
)
k.prepare()
b.start(k)
print("ready", k.latency_frame, flush=True)
sys.stdin.readline()
b.close(1.0)
st = k.poll()
print("closed", st["events_in"], st["dropped"], st["sounding"], b.dropped, flush=True)
"""


class Child:
    def __init__(self, name, block):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, name, str(block)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
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
                if line.startswith(word):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {word!r}: {self.lines!r} {self.proc.stderr.read()!r}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
        try:
            line = self.wait_for("closed", 20)
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
            self.proc.wait(10)
        return line


def test_the_kernel_path_grooves_within_one_block_and_ends_every_note(portaudio_on_jack):
    from .jack_harness import note_pattern

    name = f"gk{next(_names)}"
    h = JackHarness(f"hk{next(_names)}")
    child = Child(name, h.block_frames)
    try:
        ready = child.wait_for("ready")
        assert ready.split()[1] == "0"  # swing only delays: L = 0
        h.connect(f"{name}:midi_in", f"{name}-out:midi_out")
        sr, block = h.sample_rate, h.block_frames
        rng = np.random.default_rng(8)
        notes = [(1000 + f, b) for f, b in note_pattern(rng, 200, int(3 * sr))]
        base = h.play([(1000, bytes((START,)))] + notes)
        assert h.wait_sent()
        h.wait_frames(int(0.3 * sr))
    finally:
        closed = child.close()
        h.close()
    exp = expected_events(
        [(base + f, b) for f, b in notes], base + 1000, sr / 2, ref_swing(62, "1/16").forward, 0.0
    )
    err, missing, extra = match_notes(exp, h.received)
    assert missing == 0 and extra == []
    jitter = np.abs(err - block)  # the backend's constant latency is one block
    assert np.percentile(jitter, 99) <= block + 0.002 * sr
    assert jitter.max() <= 0.05 * sr
    assert balance(h.received) == {}
    assert closed.split()[2:] == ["0", "0", "0"]
