"""Write examples/drum-loop.mid: a quantized 2-bar 4/4 loop of 16th hats, kick and snare.

Channel 10 (General MIDI drums), 120 BPM, 480 ticks per beat, every note
exactly on the 1/16 grid and a 32nd long.  Try it with

    groove render examples/drum-loop.mid -p swing16-58 -o swung.mid
    groove info swung.mid
"""

from pathlib import Path

import mido

TPB = 480
SIXTEENTH = TPB // 4
KICK, SNARE, HAT = 36, 38, 42
HAT_VELOCITY = [100, 60, 80, 60]  # accent the beat, then the 8th
KICK_STEPS = [0, 8, 10, 16, 24, 27]  # 16th steps over the two bars
SNARE_STEPS = [4, 12, 20, 28]


def notes():
    for step in range(32):
        yield step, HAT, HAT_VELOCITY[step % 4]
    for step in KICK_STEPS:
        yield step, KICK, 110
    for step in SNARE_STEPS:
        yield step, SNARE, 105


def build() -> mido.MidiFile:
    events = []
    for step, pitch, velocity in notes():
        start = step * SIXTEENTH
        events.append((start, 1, mido.Message("note_on", channel=9, note=pitch, velocity=velocity)))
        events.append((start + SIXTEENTH // 2, 0, mido.Message("note_off", channel=9, note=pitch)))
    events.sort(key=lambda e: (e[0], e[1], e[2].note))
    track = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name="drums"),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)),
            mido.MetaMessage("time_signature", numerator=4, denominator=4),
        ]
    )
    now = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=32 * SIXTEENTH - now))
    return mido.MidiFile(type=0, ticks_per_beat=TPB, tracks=[track])


if __name__ == "__main__":
    out = Path(__file__).resolve().parent / "drum-loop.mid"
    build().save(out)
    print(f"wrote {out}")
