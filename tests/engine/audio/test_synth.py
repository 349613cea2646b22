"""FluidSynth through groove's binding: what a listener hears, measured.

Swung hits are the straight ones shifted by the groove (to the nearest
frame of FluidSynth's 64-frame grid, exactly), programs change the sound, pitch bend moves the
pitch, the sustain pedal holds a note.  Real SoundFont, real library.
"""

import mido
import numpy as np
import pytest

import groove
from engine.midi.notetable import EventTable
from engine.midi.render import render

from .conftest import mono
from .songs import hits, one_note

#: FluidSynth starts a message's effect at the next block of its own clock.
GRID = 64


def grid(frame):
    """The frame where a message of ``frame`` takes effect: groove sends it so that it lands
    on the nearest multiple of FluidSynth's block (half a block early at most)."""
    return (np.asarray(frame) + GRID // 2) // GRID * GRID


def onsets(mid, sample_rate):
    """Frames of the note-ons of a file (tick -> seconds -> round), in order."""
    from engine.midi.frames import event_rows

    rows, _ = event_rows(EventTable.from_midifile(mid), sample_rate)
    return rows[((rows[:, 1] & 0xF0) == 0x90) & (rows[:, 3] > 0), 0]


def lag_of(ref, sig, start, width, max_lag):
    """The integer lag (frames) of ``sig`` against ``ref`` around ``start``: the peak of
    their cross-correlation over [-max_lag, max_lag]."""
    from scipy.signal import correlate

    a = ref[start : start + width]
    b = sig[start - max_lag : start + width + max_lag]
    c = correlate(b, a, mode="valid")
    return int(np.argmax(c)) - max_lag


@pytest.mark.parametrize("sample_rate", [48000, 96000])
def test_swung_hits_are_the_straight_ones_shifted_by_the_groove(play, sample_rate):
    straight = hits(n=8, key=37, step_beat=0.5)
    g = groove.swing(66, "1/8")
    swung = render(straight, g, resolution=19200)  # ticks fine enough not to round the groove
    a, b = mono(play(straight, sample_rate)), mono(play(swung, sample_rate))
    on_a, on_b = onsets(straight, sample_rate), onsets(swung, sample_rate)
    beats = 1 + 0.5 * np.arange(8)
    want = (g.forward(beats) - beats) * 0.5 * sample_rate  # 120 BPM: 0.5 s a beat
    assert np.abs(want).max() > 0.05 * sample_rate  # the groove moves the off-beats a lot
    for i, f in enumerate(on_a):
        lag = lag_of(a, b, int(f), 2048, int(0.1 * sample_rate))
        # exactly FluidSynth's grid placement of each message ...
        assert lag == grid(on_b[i]) - grid(on_a[i]), i
        # ... so T(t) - t to within half a block: 32 frames (0.33 ms at 96 kHz)
        assert abs(lag - want[i]) <= GRID // 2, (i, lag, want[i])


def test_a_note_sounds_from_the_block_of_fluidsynth_nearest_its_frame(soundfont):
    """The model above, measured: the first sample of a hit at frame f is at grid(f) (the
    nearest block start) plus a constant (the sample's own start), wherever f is in a block:
    at most 32 frames early or 31 late, no bias."""
    from engine.audio.fluid import FluidSynth
    from engine.audio.render import render_rows

    first = {}
    for f in (1000, 1023, 1024, 1025, 1050, 1055, 1056, 1057, 1087, 1088, 1089):
        with FluidSynth(soundfont, 48000, reverb=False, chorus=False) as synth:
            audio = render_rows(synth, np.array([[f, 0x99, 37, 100]]), 4000, progress=False)
        first[f] = int(np.flatnonzero(np.abs(audio).max(axis=1) > 0)[0])
    offset = {first[f] - int(grid(f)) for f in first}
    assert len(offset) == 1 and 0 <= offset.pop() < GRID, first


def spectrum(x, sample_rate):
    w = np.hanning(x.size)
    mag = np.abs(np.fft.rfft(x * w))
    return np.fft.rfftfreq(x.size, 1 / sample_rate), mag


def test_a_program_change_changes_the_sound(play):
    sr = 48000
    piano = mono(play(one_note(60, program=0, beats=2.0), sr))
    strings = mono(play(one_note(60, program=48, beats=2.0), sr))
    on = int(0.25 * sr)  # beat 0.5 at 120 BPM
    seg = slice(on + int(0.3 * sr), on + int(0.3 * sr) + 8192)
    _, sp = spectrum(piano[seg], sr)
    _, ss = spectrum(strings[seg], sr)
    assert sp.max() > 0 and ss.max() > 0
    cos = float(sp @ ss / np.linalg.norm(sp) / np.linalg.norm(ss))
    assert cos < 0.9  # different timbres

    # a piano decays while its key is held; strings keep sounding
    def level(x, t0, t1):
        return float(np.sqrt(np.mean(x[on + int(t0 * sr) : on + int(t1 * sr)] ** 2)))

    assert level(piano, 0.8, 0.95) / level(piano, 0.05, 0.2) < level(strings, 0.8, 0.95) / level(
        strings, 0.05, 0.2
    )


def peak_hz(x, sample_rate, lo=200, hi=2000):
    f, mag = spectrum(x, sample_rate)
    band = (f > lo) & (f < hi)
    k = int(np.argmax(np.where(band, mag, 0)))
    # parabolic interpolation of the peak bin: a fraction of a bin
    a, b, c = np.log(mag[k - 1 : k + 2] + 1e-30)
    return f[k] + 0.5 * (a - c) / (a - 2 * b + c) * (f[1] - f[0])


def test_pitch_bend_moves_the_pitch(play):
    sr = 48000
    bend_at = 0.25  # beats: before the note, so the whole note is bent
    plain = one_note(69, program=73, beats=2.0)  # flute: a clean fundamental
    up = one_note(
        69, program=73, beats=2.0, extra=[(bend_at, mido.Message("pitchwheel", pitch=8191))]
    )
    down = one_note(
        69, program=73, beats=2.0, extra=[(bend_at, mido.Message("pitchwheel", pitch=-4096))]
    )
    seg = slice(int(0.6 * sr), int(0.6 * sr) + 16384)
    f0 = peak_hz(mono(play(plain, sr))[seg], sr)
    fu = peak_hz(mono(play(up, sr))[seg], sr)
    fd = peak_hz(mono(play(down, sr))[seg], sr)
    assert abs(f0 - 440.0) < 440 * 0.01
    # the GM default bend range is 2 semitones: +8191 -> +2 (less 1/8192), -4096 -> -1
    assert fu / f0 == pytest.approx(2 ** (2 * 8191 / 8192 / 12), rel=2e-3)
    assert fd / f0 == pytest.approx(2 ** (-1 / 12), rel=2e-3)


def padded(x, n):
    """``x`` with zeros after it up to ``n`` frames (a render stops where it falls silent)."""
    return np.concatenate([x, np.zeros(max(0, n - x.size))])


def test_the_sustain_pedal_holds_a_note_past_its_note_off(play):
    sr = 48000
    organ = 19  # church organ: sounds while held, stops soon after release
    pedal = [(0.25, mido.Message("control_change", control=64, value=127))]
    up = [(3.0, mido.Message("control_change", control=64, value=0))]
    dry = padded(mono(play(one_note(60, program=organ, beats=0.5, extra=up), sr)), 3 * sr)
    held = padded(mono(play(one_note(60, program=organ, beats=0.5, extra=pedal + up), sr)), 3 * sr)
    # note-off at beat 1.0 = 0.5 s; look at 1.0 .. 1.4 s
    win = slice(int(1.0 * sr), int(1.4 * sr))
    before = slice(int(0.3 * sr), int(0.45 * sr))
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    assert rms(held[before]) == pytest.approx(rms(dry[before]), rel=1e-3)
    assert rms(dry[win]) < 0.01 * rms(dry[before])  # released: gone
    assert rms(held[win]) > 0.5 * rms(held[before])  # pedal down: still sounding
    # the pedal comes up at beat 3 (1.5 s): then the held note ends too
    assert rms(held[int(1.9 * sr) : int(2.2 * sr)]) < 0.01 * rms(held[before])


def _live_first_sound(soundfont, block, offset, blocks=8):
    """Frame of the first sound of a hit at ``offset`` in block 3 of a LiveSynth."""
    from engine.audio.live import LiveSynth

    live = LiveSynth(soundfont, 48000, block)
    try:
        out = []
        for b in range(blocks):
            left, right = np.zeros(block, np.float32), np.zeros(block, np.float32)
            msgs = [(offset, bytes((0x99, 37, 100)))] if b == 3 else []
            live.render(msgs, block, left, right)
            out.append(left)
    finally:
        live.close()
    audio = np.concatenate(out)
    # the reverb's own floor is ~1e-8 (LiveSynth plays with FluidSynth's effects on)
    return int(np.flatnonzero(np.abs(audio) > 1e-6)[0]) - 3 * block


@pytest.mark.parametrize("block", [64, 256])
def test_the_live_synth_sounds_each_message_from_the_nearest_block_it_can(soundfont, block):
    """Live the block's messages are known only when it runs, but within a block a message
    may go out early: it lands on the nearest grid frame not before the block's start."""
    offsets = [o for o in (0, 1, 20, 31, 32, 33, 63, 64, 100, 200, 223, 224, 255) if o < block]
    first = {o: _live_first_sound(soundfont, block, o) for o in offsets}
    lead = {first[o] - int(grid(o)) for o in offsets}
    assert len(lead) == 1 and 0 <= lead.pop() < GRID, first


def test_the_live_synth_releases_the_pedal_on_a_panic_and_silences_on_stop(soundfont):
    """A panic (note-offs, All Notes Off) must also lift the sustain pedal in the synth, or
    the held notes ring for ever; a stop then silences what still rings."""
    from engine.audio.live import LiveSynth

    block, sr = 256, 48000
    pedal_on = [
        (0, bytes((0xC0, 19))),
        (0, bytes((0xB0, 64, 127))),
        (0, bytes((0x90, 60, 100))),
        (0, bytes((0x90, 64, 100))),
    ]
    panic = [(0, bytes((0x80, 60, 0))), (0, bytes((0x80, 64, 0))), (0, bytes((0xB0, 123, 0)))]

    def run(**flags):
        live = LiveSynth(soundfont, sr, block)
        left, right = np.zeros(block, np.float32), np.zeros(block, np.float32)
        levels, voices = [], []
        try:
            for b in range(int(2.0 * sr / block)):
                msgs = pedal_on if b == 0 else panic if b == 40 else []
                live.render(msgs, block, left, right, **(flags if b == 40 else {}))
                levels.append(float(np.abs(left).max()))
                voices.append(live.synth.active_voices())
            return np.array(levels), voices
        finally:
            live.close()

    held, voices = run()  # a plain All Notes Off: the pedal holds them (MIDI's rule)
    assert held[30:40].max() > 0.02 and held[-20:].max() > 0.3 * held[30:40].max()
    assert voices[-1] > 0
    released, voices = run(panic=True)
    assert released[-20:].max() < 1e-3 and voices[-1] == 0
    assert voices[40] > 0  # releasing, as a key let go does
    stopped, voices = run(panic=True, stop=True)
    assert voices[40] == 0 and stopped[-20:].max() < 1e-3  # every voice off at once
