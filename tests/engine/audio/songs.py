"""Small General MIDI files for the audio tests and bench/bench_synth.py, built with mido."""

from __future__ import annotations

import mido
import numpy as np

TPB = 480


def file_of(events, tpb=TPB, tempo_us=500_000):
    """A one-track file from (tick, mido message) pairs (any order; stable by tick)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    trk = mido.MidiTrack()
    trk.append(mido.MetaMessage("set_tempo", tempo=tempo_us, time=0))
    now = 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        trk.append(msg.copy(time=tick - now))
        now = tick
    mid.tracks.append(trk)
    return mid


def hits(n=8, key=37, step_beat=0.5, tpb=TPB):
    """``n`` short drum hits (channel 10) every ``step_beat`` beats, from beat 1."""
    ev = []
    for i in range(n):
        t = round((1 + i * step_beat) * tpb)
        ev.append((t, mido.Message("note_on", channel=9, note=key, velocity=100)))
        ev.append((t + tpb // 8, mido.Message("note_off", channel=9, note=key, velocity=0)))
    return file_of(ev, tpb)


def one_note(key=60, program=0, channel=0, beats=1.0, extra=()):
    """One note from beat 0.5, ``beats`` long, after a program change; ``extra`` events
    are (beat, message) pairs."""
    ev = [(0, mido.Message("program_change", channel=channel, program=program))]
    on, off = round(0.5 * TPB), round((0.5 + beats) * TPB)
    ev.append((on, mido.Message("note_on", channel=channel, note=key, velocity=100)))
    ev.append((off, mido.Message("note_off", channel=channel, note=key, velocity=0)))
    ev += [(round(b * TPB), m) for b, m in extra]
    return file_of(ev)


def gm_song(bars=8, seed=0):
    """A 16-channel GM file like a song's: drums in 16ths, a bass in 8ths, piano chords
    on the beat, and 13 more parts each playing a note every two beats, with volume, pan,
    expression, sustain, pitch bend, aftertouch and a bank select; 4/4 at 120 BPM."""
    rng = np.random.default_rng(seed)
    ev = []

    def note(t, ch, key, dur, vel=80):
        ev.append((t, mido.Message("note_on", channel=ch, note=key, velocity=vel)))
        ev.append((t + dur, mido.Message("note_off", channel=ch, note=key)))

    for ch in range(16):
        if ch != 9:
            ev.append((0, mido.Message("control_change", channel=ch, control=0, value=0)))
            ev.append((0, mido.Message("program_change", channel=ch, program=(ch * 8) % 128)))
        ev.append((0, mido.Message("control_change", channel=ch, control=7, value=100)))
        ev.append((0, mido.Message("control_change", channel=ch, control=10, value=ch * 8)))
    ev.append((0, mido.Message("program_change", channel=1, program=33)))  # a bass
    for b in range(bars * 16):  # 16ths
        t = b * TPB // 4
        note(t, 9, 42, 60, 70)
        if b % 4 == 0:
            note(t, 9, 36, 60, 100)
        if b % 8 == 4:
            note(t, 9, 38, 60, 100)
        if b % 2 == 0:
            note(t, 1, int(36 + rng.integers(0, 12)), TPB // 2 - 20)
        if b % 4 == 0:
            root = int(55 + rng.integers(0, 12))
            for k in (0, 4, 7):
                note(t, 0, root + k, TPB - 20, 70)
        ch = 2 + (b // 2) % 14
        if b % 2 == 0 and ch != 9:
            note(t, ch, int(48 + (ch * 5 + rng.integers(0, 12)) % 36), TPB, 75)
            ev.append((t, mido.Message("control_change", channel=ch, control=11, value=90)))
            ev.append((t + 5, mido.Message("pitchwheel", channel=ch, pitch=int(b * 97 % 4000))))
            ev.append((t + 7, mido.Message("aftertouch", channel=ch, value=b % 128)))
        if b % 16 == 0:
            ev.append((t, mido.Message("control_change", channel=0, control=64, value=127)))
        if b % 16 == 12:
            ev.append((t, mido.Message("control_change", channel=0, control=64, value=0)))
    return file_of(ev)
