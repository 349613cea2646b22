"""A recorded performance as arrays, and where each note sits against a grid or score.

``read`` loads the notes of a MIDI file (optionally only some tracks,
channels or pitches) with their positions in beats and seconds and the
tempo at each; ``assign_grid`` snaps each note to its nearest grid line and
``assign_score`` pairs it with its score note (``engine.learn.scorematch``).  Both
give an :class:`Assignment`: per note, the grid position, the step within
the period and the residual (played minus grid) in beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A score must pair at least this share of the notes (of the larger file).
MIN_MATCH_SHARE = 0.5
#: A score note counts as on the grid within this fraction of a step.
ON_GRID_STEP = 0.02


class ExtractError(ValueError):
    """Input a groove cannot be learned from; ``str()`` is one line."""


@dataclass(frozen=True)
class Performance:
    """The selected notes of a MIDI file.

    Attributes
    ----------
    path : str
    start_beat, end_beat, start_sec : ndarray
        Note-on and note-off positions in beats (tick / ticks per beat), and
        the note-on in seconds.
    pitch, velocity, channel, track : ndarray of int
        Channels 0-15 as mido numbers them.
    ms_per_beat : ndarray
        The tempo at each note-on.
    bar_beat : float
        Length of a bar by the first time signature (4 without one).
    time_signature : (int, int) or None
    track_names : tuple of str
    notes_total : int
        Notes in the file before selection.
    """

    path: str
    start_beat: np.ndarray
    end_beat: np.ndarray
    start_sec: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    channel: np.ndarray
    track: np.ndarray
    ms_per_beat: np.ndarray
    bar_beat: float
    time_signature: tuple | None
    track_names: tuple
    notes_total: int

    def __len__(self):
        return self.start_beat.size


def _mask(values, allowed):
    return np.ones(values.shape, bool) if allowed is None else np.isin(values, list(allowed))


def read(path, *, tracks=None, channels=None, notes=None) -> Performance:
    """Read the notes of a MIDI file; ``tracks``/``channels`` (0-15)/``notes`` select.

    Raises
    ------
    engine.midi.midifile.MidiFileError
        For a file that is not a valid MIDI file.
    ExtractError
        When the file (or the selection) has no notes.
    """
    from engine.midi import midifile
    from engine.midi.notetable import EventTable, NoteTable

    ev = EventTable.from_midifile(midifile.read(path), path)
    nt = NoteTable.from_events(ev)
    if len(nt) == 0:
        raise ExtractError(f"{path}: the file has no notes; there is no groove to learn")
    sel = _mask(nt.track, tracks) & _mask(nt.channel, channels) & _mask(nt.pitch, notes)
    if not sel.any():
        chans = ", ".join(str(c + 1) for c in np.unique(nt.channel))
        tracks_text = ", ".join(str(t) for t in np.unique(nt.track))
        raise ExtractError(
            f"{path}: no notes on the chosen tracks/channels/notes (its {len(nt)} "
            f"notes are on channel(s) {chans} in track(s) {tracks_text}); "
            "check --tracks/--channels/--notes"
        )
    maps = ev.tempo_maps()
    tick = nt.start_tick[sel]
    trk = nt.track[sel]
    sec = np.empty(tick.size)
    us = np.empty(tick.size)
    for m in {id(m): m for m in maps}.values():
        on = np.array([maps[t] is m for t in trk], bool)
        sec[on], us[on] = m.seconds(tick[on]), m.tempo_at(tick[on])
    sigs = sorted(ev.time_signatures)
    sig = (int(sigs[0][2]), int(sigs[0][3])) if sigs else None
    bar = sig[0] * 4.0 / sig[1] if sig and sig[0] > 0 and sig[1] > 0 else 4.0
    tpb = ev.ticks_per_beat
    return Performance(
        str(path),
        tick / tpb,
        nt.end_tick[sel] / tpb,
        sec,
        nt.pitch[sel],
        nt.velocity[sel],
        nt.channel[sel],
        trk,
        us / 1000.0,
        bar,
        sig,
        tuple(ev.names),
        len(nt),
    )


class Assignment(dict):
    """Per-note arrays of the notes used, all one length.

    Keys: ``grid_beat`` (grid or score position), ``step`` (within the
    period), ``residual_beat`` (played minus grid), ``ms_per_beat``,
    ``pitch``, ``velocity``, ``bar`` (0-based), ``instrument`` (track * 16 +
    channel) and ``channel``.
    """

    def take(self, mask) -> Assignment:
        return Assignment({k: v[mask] for k, v in self.items()})

    def __len__(self):
        return self["step"].size


def assign_grid(perf: Performance, step_beat: float, n_steps: int) -> Assignment:
    """Each note to its nearest grid line (ties to the later one)."""
    index = np.floor(perf.start_beat / step_beat + 0.5).astype(np.int64)
    grid_beat = index * step_beat
    return Assignment(
        grid_beat=grid_beat,
        step=index % n_steps,
        residual_beat=perf.start_beat - grid_beat,
        ms_per_beat=perf.ms_per_beat,
        pitch=perf.pitch,
        velocity=perf.velocity,
        bar=np.floor(grid_beat / perf.bar_beat + 1e-9).astype(np.int64),
        instrument=perf.track * 16 + perf.channel,
        channel=perf.channel,
    )


def assign_score(
    perf: Performance, score: Performance, step_beat: float, n_steps: int, knot_beat: float
):
    """Pair played notes with score notes; keep the pairs whose score note is on the grid.

    Returns ``(Assignment, share)``; raises ExtractError when less than
    ``MIN_MATCH_SHARE`` of the notes pair up.
    """
    from . import scorematch

    m = scorematch.match(
        perf.start_sec, perf.pitch, score.start_beat, score.pitch, knot_beat, perf.path
    )
    if m.share < MIN_MATCH_SHARE:
        raise ExtractError(
            f"{score.path}: the score does not match {perf.path}: only "
            f"{100 * m.share:.0f}% of notes paired ({m.perf_index.size} of "
            f"{max(m.n_perf, m.n_score)}), {100 * MIN_MATCH_SHARE:.0f}% needed; check that it "
            "is the score of this performance, or select the same part with "
            "--tracks/--channels/--notes"
        )
    sb = m.score_beat
    pos = sb / step_beat
    on_grid = np.abs(pos - np.rint(pos)) <= ON_GRID_STEP
    s = m.score_index
    asg = Assignment(
        grid_beat=sb,
        step=np.rint(pos).astype(np.int64) % n_steps,
        residual_beat=m.residual_beat,
        ms_per_beat=m.ms_per_beat,
        pitch=score.pitch[s],
        velocity=perf.velocity[m.perf_index],
        bar=np.floor(sb / score.bar_beat + 1e-9).astype(np.int64),
        instrument=score.track[s] * 16 + score.channel[s],
        channel=score.channel[s],
    )
    return asg.take(on_grid), m.share


def select_bars(asg: Assignment, bars, path) -> Assignment:
    """The notes in bars ``first``..``last`` (1-based, inclusive)."""
    first, last = bars
    if first < 1 or last < first:
        raise ExtractError(f"--bars: {first}-{last}; give FIRST-LAST with 1 <= FIRST <= LAST")
    sel = (asg["bar"] >= first - 1) & (asg["bar"] <= last - 1)
    if not sel.any():
        n_bars = int(asg["bar"].max()) + 1 if len(asg) else 0
        raise ExtractError(
            f"{path}: no notes in bars {first}-{last} (the notes span bars 1-"
            f"{n_bars}); choose bars within them"
        )
    return asg.take(sel)
