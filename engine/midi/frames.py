"""A rendered file as synthesizer rows with exact frames, and its audio.

What ``--wav`` writes is what the output MIDI file sounds like: every
channel voice message of the rendered ``EventTable`` at the frame of its
tick through the file's tempo map (``round(seconds * sample_rate)``, ties
up), played through FluidSynth (``engine.audio``).  Both engines write the
same file, so they write the same audio, sample for sample.
"""

from __future__ import annotations

import numpy as np

from . import midifile
from .notetable import KIND_CHANNEL, KIND_END, KIND_NOTE_OFF, KIND_NOTE_ON, EventTable


def event_rows(table: EventTable, sample_rate: float) -> tuple:
    """(rows int64[n, 4] of ``frame, status, data1, data2``, end frame) of a table.

    Rows are sorted by frame; at one frame they keep file order (tracks one
    after another, each in its own order), as a MIDI player merges them.
    The end frame is the latest end_of_track (or the last row).  Format 2
    tracks each use their own tempo map and all start at frame 0.
    """
    voice = np.isin(table.kind, (KIND_NOTE_ON, KIND_NOTE_OFF, KIND_CHANNEL))
    maps = table.tempo_maps()
    sec = np.zeros(table.tick.size)
    for t in range(table.n_tracks):
        lo, hi = table.track_start[t], table.track_start[t + 1]
        sec[lo:hi] = maps[t].seconds(table.tick[lo:hi])
    frame = np.floor(sec * float(sample_rate) + 0.5).astype(np.int64)
    idx = np.flatnonzero(voice)
    idx = idx[np.argsort(frame[idx], kind="stable")]
    rows = np.stack(
        [
            frame[idx],
            table.status[idx].astype(np.int64),
            table.data1[idx].astype(np.int64),
            np.maximum(table.data2[idx], 0).astype(np.int64),
        ],
        axis=1,
    )
    ends = frame[table.kind == KIND_END]
    end = int(ends.max()) if ends.size else 0
    if rows.size:
        end = max(end, int(rows[-1, 0]) + 1)
    return np.ascontiguousarray(rows), end


def open_synth(soundfont, sample_rate, **kwargs):
    """``engine.audio.render.open_synth``: fails (one line) before anything is written."""
    from engine.audio.render import open_synth as _open

    return _open(soundfont, sample_rate, **kwargs)


def rendered_table(out) -> EventTable:
    """The EventTable of a render's output (``_render_table``'s result), read back from
    its encoded bytes: the frames are those of the file that is written."""
    if isinstance(out, EventTable):
        return out
    return EventTable.from_raw(midifile.parse_raw(out.encode(), "<rendered>"), "<rendered>")


def table_audio(out, synth, progress=None):
    """What a rendered file sounds like through ``synth``: float32[frames, 2]."""
    from engine.audio.render import render_rows

    rows, end = event_rows(rendered_table(out), synth.sample_rate)
    return render_rows(synth, rows, end, progress=progress)


def write_audio(path, audio, sample_rate, depth="24", notice=None):
    """``engine.audio.render.write_audio``: WAV or FLAC by the name, atomically (the same
    gain for every format; ``notice`` is told when it scales the audio down)."""
    from engine.audio.render import write_audio as _write

    return _write(path, audio, sample_rate, depth, notice)


def write_table_audio(table, synth, path, depth="24", progress=None, notice=None):
    """Play a rendered table through ``synth`` and write ``path``; returns its frames."""
    audio = table_audio(table, synth, progress)
    write_audio(path, audio, synth.sample_rate, depth, notice)
    return audio.shape[0]
