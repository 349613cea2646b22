"""``groove live --synth`` on the JACK dummy server: each note sounds at its MIDI frame.

The session plays the grooved output through FluidSynth on ``out_1``/``out_2``;
a recorder client takes ``out_1`` and, through the harness, ``midi_out``, in
the same JACK cycles.  Each note-on's sound must start within 2 ms of the
frame the note-on went out at (FluidSynth's 64-frame grid is 1.3 ms at 48 kHz).
Both paths: the compiled callback (``kernel``, what ``groove live --synth``
runs) and JACK-Client's Python callback (``python``, for racks the kernel
cannot compile).
"""

import time

import numpy as np
import pytest

import groove
from tests.engine.audio.needs import soundfont_or_skip

from .jack_harness import START, JackHarness
from .test_live_jack import _names, start_session, stop_session

pytestmark = pytest.mark.live


class AudioRecorder:
    """A JACK client recording one audio port into a preallocated buffer by frame."""

    def __init__(self, name, seconds=20.0):
        import jack

        self.client = jack.Client(name, no_start_server=True)
        self.inp = self.client.inports.register("in")
        self.sr = self.client.samplerate
        self.audio = np.zeros(int(seconds * self.sr), np.float32)
        self.base = None
        self.errors = []
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames):
        try:
            t0 = self.client.last_frame_time
            if self.base is None:
                self.base = t0
            i = t0 - self.base
            if 0 <= i and i + frames <= self.audio.size:
                self.audio[i : i + frames] = self.inp.get_array()
        except Exception as exc:
            self.errors.append(exc)

    def wait_running(self, timeout_sec=30.0):
        """Block until the first process callback has set ``base``."""
        deadline = time.monotonic() + timeout_sec
        while self.base is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.base is not None, "the recorder's process callback never ran"

    def close(self):
        self.client.deactivate()
        self.client.close()


@pytest.fixture(params=["kernel", "python"])
def path(request, monkeypatch):
    """The live path the session takes (``engine.live.paths.PATH_ENV``)."""
    from engine.live.paths import PATH_ENV

    monkeypatch.setenv(PATH_ENV, request.param)
    return request.param


def _check_path(session, path):
    assert session.path.realtime_safe == (path == "kernel"), session.path.describe()


def _request(session, what):
    """A stop or panic from the main thread, as the session's controls send it."""
    core = getattr(session.path, "core", None)
    if core is not None:
        core.request(what)
    else:
        session.path.kernel.command(what)


@pytest.fixture
def soundfont():
    return soundfont_or_skip()


def test_each_note_sounds_within_2_ms_of_its_midi_frame(jack_server, soundfont, path):
    harness = JackHarness(f"h{next(_names)}")
    rec = None
    session, thread, name = start_session(
        groove.swing(62), bpm=120.0, synth=True, soundfont=soundfont, connect=False
    )
    try:
        assert "synth" in session.backend.describe()
        _check_path(session, path)
        rec = AudioRecorder(f"rec{next(_names)}")
        harness.connect(f"{name}:midi_in", f"{name}:midi_out")
        rec.client.connect(f"{name}:out_1", rec.inp)
        rec.wait_running()  # its clock starts at its first callback: before the notes
        sr = harness.sample_rate
        step = int(0.3 * sr)  # hits far enough apart that each starts from near silence
        notes = []
        for i in range(10):
            f = 1000 + i * step + (i * 37) % 256  # at every offset within a block
            notes.append((f, bytes((0x99, 37, 110))))
            notes.append((f + 2000, bytes((0x89, 37, 0))))
        harness.play([(0, bytes((START,)))] + notes)
        assert harness.wait_sent()
        harness.wait_frames(int(0.5 * sr))
    finally:
        stop_session(session, thread)
        if rec is not None:
            rec.close()
        harness.close()
    assert rec.errors == [] and harness.errors == []
    ons = [f for f, b in harness.received if b[0] == 0x99 and b[2] > 0]
    assert len(ons) == 10
    x = np.abs(rec.audio)
    assert x.max() > 0.01  # it sounded
    two_ms = 0.002 * sr
    for f in ons:
        i = f - rec.base
        quiet = x[i - int(0.02 * sr) : i - int(two_ms)].max()
        window = x[i - int(two_ms) : i + int(0.02 * sr)]
        onset = int(np.flatnonzero(window > max(1e-4, 4 * quiet))[0]) - int(two_ms)
        assert abs(onset) <= two_ms, (f, onset)


@pytest.mark.parametrize("what", ["stop", "panic"])
def test_stop_and_panic_with_the_pedal_down_leave_no_note_ringing(
    jack_server, soundfont, path, what
):
    """The synth gets the panic's note-offs and All Notes Off like the MIDI output, but an
    All Notes Off leaves pedal-held notes sounding: the synth's pedal must come up too."""
    harness = JackHarness(f"h{next(_names)}")
    rec = None
    session, thread, name = start_session(
        groove.swing(50), bpm=120.0, synth=True, soundfont=soundfont, connect=False
    )
    try:
        _check_path(session, path)
        rec = AudioRecorder(f"rec{next(_names)}", seconds=8.0)
        harness.connect(f"{name}:midi_in", f"{name}:midi_out")
        rec.client.connect(f"{name}:out_1", rec.inp)
        rec.wait_running()
        sr = harness.sample_rate
        organ = [(100, bytes((0xC0, 19))), (200, bytes((0xB0, 64, 127)))]
        notes = [(1000, bytes((0x90, 60, 100))), (1000, bytes((0x90, 67, 100)))]
        offs = [(4000, bytes((0x80, 60, 0))), (4000, bytes((0x80, 67, 0)))]  # pedal holds
        harness.play([(0, bytes((START,)))] + organ + notes + offs)
        assert harness.wait_sent()
        harness.wait_frames(int(0.5 * sr))
        at = harness.frame_now()
        _request(session, what)
        harness.wait_frames(int(1.5 * sr))
        end = harness.frame_now()
    finally:
        stop_session(session, thread)
        if rec is not None:
            rec.close()
        harness.close()
    assert rec.errors == [] and harness.errors == []
    x = np.abs(rec.audio)
    before = x[at - rec.base - int(0.3 * sr) : at - rec.base].max()
    after = x[at - rec.base + int(1.0 * sr) : end - rec.base].max()
    assert before > 0.02  # the pedal held the notes up to the request
    assert after < 1e-3 * max(before, 1.0), (before, after)


@pytest.mark.parametrize("connect", [True, False], ids=["connect", "no-connect"])
def test_out_ports_go_to_the_playback_ports_unless_no_connect(
    jack_server, soundfont, path, connect
):
    import jack

    session, thread, name = start_session(
        groove.swing(58), bpm=120.0, synth=True, soundfont=soundfont, connect=connect
    )
    probe = jack.Client(f"probe{next(_names)}", no_start_server=True)
    try:
        _check_path(session, path)
        playback = [p.name for p in probe.get_ports(is_audio=True, is_input=True, is_physical=True)]
        got = [[p.name for p in probe.get_all_connections(f"{name}:out_{i}")] for i in (1, 2)]
        midi = probe.get_ports(f"{name}:midi_out")
    finally:
        probe.close()
        stop_session(session, thread)
    assert len(playback) >= 2  # the dummy server has system:playback_1, _2
    assert got == ([[playback[0]], [playback[1]]] if connect else [[], []])
    assert len(midi) == 1  # the MIDI output is there alongside
