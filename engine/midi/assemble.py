"""Assemble a rendered file from new note and event ticks: tidy, order, encode.

``assemble`` takes where every note and event of an EventTable should land
(output ticks) and builds the output: notes of each (track, channel, pitch)
where something moved are tidied (see ``engine.midi.render``), rows are ordered
per track by (tick, original order) with a note-off before a note-on of the
same key at one tick, each track gets one end_of_track, and the result
encodes to bytes (``_Output.encode``) or to new mido messages
(``_Output.to_midifile``).  Both the direct renderer and the block engine
(``engine.midi.offline``) call it, so their files are assembled by one code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import mido
import numpy as np

from . import _render_kernels as rk
from .notetable import KIND_END, KIND_NOTE_OFF, KIND_NOTE_ON

_EOT_BYTES = np.array([0xFF, 0x2F, 0x00], dtype=np.uint8)
#: Velocity of the note-offs added to close notes that never end (mido's default).
CLOSING_VELOCITY = 64
_SRC_CLOSE, _SRC_EOT = -1, -2


@dataclass
class _Output:
    """The rendered file as rows, sorted by track then output order."""

    fmt: int
    ticks_per_beat: int
    n_tracks: int
    src: np.ndarray  # event row; _SRC_CLOSE closing note-off; _SRC_EOT end_of_track
    tick: np.ndarray
    status: np.ndarray
    data1: np.ndarray
    data2: np.ndarray
    blob_start: np.ndarray
    blob_len: np.ndarray
    blob: np.ndarray
    bounds: np.ndarray
    messages: list

    def encode(self) -> bytes:
        """The file's bytes (what mido's writer produces for ``to_midifile()``)."""
        size = 14 + 8 * self.n_tracks + 13 * self.src.size + int(self.blob_len.sum())
        out = np.empty(size, dtype=np.uint8)
        used = rk.encode_tracks(
            self.bounds,
            self.tick,
            self.status,
            self.data1,
            self.data2,
            self.blob_start,
            self.blob_len,
            self.blob,
            out[14:],
        )
        # unsigned counts: mido packs them signed and fails past 32767 tracks
        out[:14] = np.frombuffer(
            struct.pack(">4sLHHH", b"MThd", 6, self.fmt, self.n_tracks, self.ticks_per_beat),
            dtype=np.uint8,
        )
        return out[: 14 + used].tobytes()

    def to_midifile(self) -> mido.MidiFile:
        """The rendered file as new mido messages (input messages are never modified)."""
        if self.messages is None:
            raise ValueError("this table was read without mido messages; use encode()")
        tracks = []
        msgs = self.messages
        src, tick, data2 = self.src.tolist(), self.tick.tolist(), self.data2.tolist()
        status, data1 = self.status.tolist(), self.data1.tolist()
        for t in range(self.n_tracks):
            trk = mido.MidiTrack()
            now = 0
            for i in range(int(self.bounds[t]), int(self.bounds[t + 1])):
                delta, now = tick[i] - now, tick[i]
                s = src[i]
                if s >= 0:
                    m = msgs[s]
                    clone = m.__class__.__new__(m.__class__)
                    d = clone.__dict__
                    d.update(m.__dict__)
                    d["time"] = delta
                    if d["type"] == "note_on" and d["velocity"]:
                        d["velocity"] = data2[i]
                    trk.append(clone)
                elif s == _SRC_CLOSE:
                    trk.append(
                        mido.Message(
                            "note_off",
                            channel=status[i] & 15,
                            note=data1[i],
                            velocity=data2[i],
                            time=delta,
                        )
                    )
                else:
                    trk.append(mido.MetaMessage("end_of_track", time=delta))
            tracks.append(trk)
        return mido.MidiFile(type=self.fmt, ticks_per_beat=self.ticks_per_beat, tracks=tracks)


def assemble(ev, nt, tpb_out, start, end, velocity, event_tick):
    """Build the output from new positions (all in output ticks).

    Parameters
    ----------
    ev, nt : EventTable, NoteTable
        The input.
    tpb_out : int
        Output ticks per beat.
    start, end : int64[len(nt)]
        New note-on and note-off ticks (changed in place by the tidying).
    velocity : int64[len(nt)]
        New note-on velocities.
    event_tick : int64[len(ev.tick)]
        New ticks of the events that are not notes (rows of notes are ignored).

    Returns
    -------
    (_Output, dict)
        The file, and counts for RenderStats.
    """
    ended = nt.ended
    if tpb_out == ev.ticks_per_beat:
        moved = (start != nt.start_tick) | (ended & (end != nt.end_tick))
    else:
        moved = np.ones(len(nt), bool)
    group = (nt.track * 16 + nt.channel) * 128 + nt.pitch
    order = np.lexsort((np.arange(len(nt)), start, group))
    group_moved = rk.tidy_notes(order, group, start, end, moved, np.zeros(len(nt), bool))
    orphan = nt.orphan_off
    orphan_group = (ev.track[orphan] * 16 + (ev.status[orphan] & 15)) * 128 + ev.data1[orphan]
    orphan_drop = orphan[np.isin(orphan_group, np.unique(group[group_moved]))]
    close = np.flatnonzero(~ended & group_moved)
    rows = _rows(ev, nt, start, end, event_tick, close, np.setdiff1d(orphan, orphan_drop))
    perm = _order(rows, group, group_moved, len(nt))
    out = _gather(ev, nt, perm, rows, velocity, tpb_out)
    counts = dict(
        tracks=ev.n_tracks,
        notes=len(nt),
        notes_moved=int(moved.sum()),
        orphan_offs_dropped=int(orphan_drop.size),
        orphan_offs_kept=int(orphan.size - orphan_drop.size),
        unended_closed=int(close.size),
        unended_kept=int((~ended).sum() - close.size),
        ticks_per_beat=tpb_out,
    )
    return out, counts


def _rows(ev, nt, start, end, event_tick, close, orphans_kept):
    """Unsorted output rows: src, tick, track, order (original position), note, n_keep."""
    ended = nt.ended
    keep = np.flatnonzero(
        (ev.kind != KIND_NOTE_ON) & (ev.kind != KIND_NOTE_OFF) & (ev.kind != KIND_END)
    )
    keep = np.union1d(keep, orphans_kept)
    last_row = ev.track_start[1:] - 1
    src = [keep, nt.on_event, nt.off_event[ended], np.full(close.size, _SRC_CLOSE, np.int64)]
    tick = [event_tick[keep], start, end[ended], end[close]]
    track = [ev.track[keep], nt.track, nt.track[ended], nt.track[close]]
    # twice the event row keeps file order; a closing note-off goes after its track's events
    order = [2 * keep, 2 * nt.on_event, 2 * nt.off_event[ended], 2 * last_row[nt.track[close]] + 1]
    note = [np.full(keep.size, -1, np.int64), np.arange(len(nt)), np.flatnonzero(ended), close]
    # one end_of_track per track, after everything else in it
    eot_tick = np.zeros(ev.n_tracks, np.int64)
    is_end = ev.kind == KIND_END
    np.maximum.at(eot_tick, ev.track[is_end], event_tick[is_end])
    np.maximum.at(eot_tick, np.concatenate(track), np.concatenate(tick))
    src.append(np.full(ev.n_tracks, _SRC_EOT, np.int64))
    tick.append(eot_tick)
    track.append(np.arange(ev.n_tracks))
    order.append(np.full(ev.n_tracks, 2 * ev.tick.size + 2))
    note.append(np.full(ev.n_tracks, -1, np.int64))
    return dict(
        src=np.concatenate(src),
        tick=np.concatenate(tick),
        track=np.concatenate(track),
        order=np.concatenate(order),
        note=np.concatenate(note),
        n_keep=keep.size,
    )


def _order(rows, group, group_moved, n_notes):
    """Output permutation: by track, tick, original order; offs before ons of one key."""
    perm = np.lexsort((rows["order"], rows["tick"], rows["track"]))
    note = rows["note"]
    fix = note >= 0
    fix[fix] = group_moved[note[fix]]
    if fix.any():
        is_on = np.zeros(note.size, bool)
        is_on[rows["n_keep"] : rows["n_keep"] + n_notes] = True
        is_off = (note >= 0) & ~is_on
        key = np.full(note.size, -1, np.int64)
        key[note >= 0] = group[note[note >= 0]]
        rk.offs_before_ons(perm, rows["tick"], rows["track"], is_on, is_off, key, fix)
    return perm


def _gather(ev, nt, perm, rows, velocity, tpb_out):
    """Per output row: the bytes to write, in output order."""
    src = rows["src"][perm]
    note = rows["note"][perm]
    real = np.maximum(src, 0)
    status = ev.status[real].astype(np.int64)
    data1 = ev.data1[real].astype(np.int64)
    data2 = ev.data2[real].astype(np.int64)
    blob_start = ev.blob_start[real].copy()
    blob_len = ev.blob_len[real].copy()
    is_on = np.zeros(rows["src"].size, bool)
    is_on[rows["n_keep"] : rows["n_keep"] + len(nt)] = True
    on = is_on[perm]
    data2[on] = velocity[note[on]]  # note-ons carry the new velocity
    closing = src == _SRC_CLOSE
    k = note[closing]
    status[closing] = 0x80 | nt.channel[k]
    data1[closing] = nt.pitch[k]
    data2[closing] = CLOSING_VELOCITY
    blob_len[closing] = 0
    eot = src == _SRC_EOT
    blob = np.concatenate([ev.blob, _EOT_BYTES])
    blob_start[eot] = ev.blob.size
    blob_len[eot] = 3
    track = rows["track"][perm]
    bounds = np.searchsorted(track, np.arange(ev.n_tracks + 1), side="left")
    return _Output(
        ev.fmt,
        tpb_out,
        ev.n_tracks,
        src,
        rows["tick"][perm],
        status,
        data1,
        data2,
        blob_start,
        blob_len,
        blob,
        bounds.astype(np.int64),
        ev.messages,
    )
