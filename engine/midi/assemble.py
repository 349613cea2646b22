"""Assemble a rendered file from new note and event ticks: tidy, order, encode.

``assemble`` takes where every note and event of an EventTable should land
(output ticks) and builds the output: notes of each (track, channel, pitch)
where something moved are tidied (see ``engine.midi.render``), rows are ordered
per track by (tick, original order) with a note-off before a note-on of the
same key at one tick, each track gets one end_of_track, and the result
encodes to bytes (``_Ordered.encode``) or to new mido messages
(``_Ordered.to_midifile``).  Both the direct renderer and the block engine
(``engine.midi.offline``) call it, so their files are assembled by one code.

A groove moves notes a little, so rows arrive almost in order: they are laid
out in file order and insertion-sorted by kernels
(``engine.midi._assemble_kernels``), with ``np.lexsort`` as the fallback past
a budget of moves (the same stable order either way).  The bytes of each row
are gathered a few tracks at a time while encoding, so a big file never holds
all its output columns at once (they would be the render's peak of memory).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import _assemble_kernels as ak
from . import _render_kernels as rk
from .notetable import KIND_END, KIND_NOTE_OFF, KIND_NOTE_ON

if TYPE_CHECKING:  # mido is imported only to build mido output
    import mido

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
        return b"".join([_header(self.fmt, self.n_tracks, self.ticks_per_beat), self.chunks()])

    def size(self) -> int:
        """The bytes of the MTrk chunks, exactly (so small files stay small jobs)."""
        n = self.tick.size
        starts = self.bounds[:-1][self.bounds[:-1] < n]
        delta = np.diff(self.tick, prepend=0)
        delta[starts] = self.tick[starts]
        varlen, longer = n, delta
        while longer.size:  # one more byte per 7 bits (few deltas need more than two)
            longer = longer[longer >= 128] >> 7
            varlen += longer.size
        blob = self.blob_len > 0
        running = np.empty(n, self.status.dtype)  # the status before each row (-1: none)
        running[1:] = self.status[:-1]
        running[1:][blob[:-1]] = -1
        running[starts] = -1
        channel = ~blob
        status_bytes = np.count_nonzero(channel & (self.status != running))
        data_bytes = np.count_nonzero(channel) + np.count_nonzero(channel & (self.data2 >= 0))
        blob_bytes = int(self.blob_len.sum())
        return 8 * self.n_tracks + varlen + status_bytes + data_bytes + blob_bytes

    def chunks(self) -> np.ndarray:
        """The MTrk chunks' bytes."""
        out = np.empty(self.size(), dtype=np.uint8)
        used = self.encode_into(out)
        assert used == out.size, (used, out.size)
        return out

    def encode_into(self, out) -> int:
        """Write the MTrk chunks into ``out``; returns the bytes used."""
        return rk.encode_tracks(
            self.bounds,
            self.tick,
            self.status,
            self.data1,
            self.data2,
            self.blob_start,
            self.blob_len,
            self.blob,
            out,
        )

    def to_midifile(self) -> mido.MidiFile:
        """The rendered file as new mido messages (input messages are never modified)."""
        import mido

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


def _header(fmt, n_tracks, tpb) -> bytes:
    # unsigned counts: mido packs them signed and fails past 32767 tracks
    return struct.pack(">4sLHHH", b"MThd", 6, fmt, n_tracks, tpb)


#: Rows gathered at once when encoding (whole tracks; a longer track is one chunk).
CHUNK_ROWS = 1 << 18


@dataclass
class _Ordered:
    """The rendered file as output rows in order, gathered from the input on demand.

    Gathering every column of a big file at once would be the render's peak
    of memory; ``encode`` gathers and writes a few tracks at a time.
    """

    fmt: int
    ticks_per_beat: int
    n_tracks: int
    perm: np.ndarray  # output order of the rows below
    src: np.ndarray  # event row; _SRC_CLOSE closing note-off; _SRC_EOT end_of_track
    note: np.ndarray  # note of a note row, -1 for the others
    tick: np.ndarray
    n_keep: int  # rows n_keep:n_keep + len(velocity) are note-ons
    ev: object  # EventTable
    velocity: np.ndarray
    channel: np.ndarray
    pitch: np.ndarray
    bounds: np.ndarray  # output rows of track t: bounds[t]:bounds[t + 1]

    def columns(self, first_track=0, end_track=None) -> _Output:
        """Tracks ``first_track:end_track`` as an _Output (the whole file by default)."""
        end_track = self.n_tracks if end_track is None else end_track
        lo, hi = int(self.bounds[first_track]), int(self.bounds[end_track])
        perm, ev = self.perm[lo:hi], self.ev
        src, status, data1, data2, blob_start, blob_len = ak.gather(
            perm,
            self.src,
            self.note,
            self.n_keep,
            self.velocity.size,
            (ev.status, ev.data1, ev.data2, ev.blob_start, ev.blob_len),
            self.velocity,
            self.channel,
            self.pitch,
            CLOSING_VELOCITY,
            ev.blob.size,
        )
        return _Output(
            self.fmt,
            self.ticks_per_beat,
            end_track - first_track,
            src,
            self.tick[perm],
            status,
            data1,
            data2,
            blob_start,
            blob_len,
            np.concatenate([ev.blob, _EOT_BYTES]),
            self.bounds[first_track : end_track + 1] - lo,
            ev.messages,
        )

    def encode(self) -> bytes:
        """The file's bytes (what mido's writer produces for ``to_midifile()``)."""
        parts = [_header(self.fmt, self.n_tracks, self.ticks_per_beat)]
        first = 0
        while first < self.n_tracks:
            end = int(np.searchsorted(self.bounds, self.bounds[first] + CHUNK_ROWS, "right")) - 1
            end = min(max(end, first + 1), self.n_tracks)
            parts.append(self.columns(first, end).chunks())
            first = end
        return b"".join(parts)

    def to_midifile(self) -> mido.MidiFile:
        """The rendered file as new mido messages (input messages are never modified)."""
        return self.columns().to_midifile()


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
    order = _note_order(group, start)
    group_moved = rk.tidy_notes(order, group, start, end, moved, np.zeros(len(nt), bool))
    del order
    orphan = nt.orphan_off
    orphan_drop = orphan
    if orphan.size:
        orphan_group = (ev.track[orphan] * 16 + (ev.status[orphan] & 15)) * 128 + ev.data1[orphan]
        orphan_drop = orphan[np.isin(orphan_group, np.unique(group[group_moved]))]
    close = np.flatnonzero(~ended & group_moved)
    kept = np.setdiff1d(orphan, orphan_drop) if orphan_drop.size else orphan
    rows = _rows(ev, nt, start, end, event_tick, close, kept)
    perm = _order(ev, nt, rows, group, group_moved, close)
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
    """Unsorted output rows: src, tick, track, note, n_keep (and ``row_order``'s parts)."""
    ended = nt.ended
    keep = np.flatnonzero(
        (ev.kind != KIND_NOTE_ON) & (ev.kind != KIND_NOTE_OFF) & (ev.kind != KIND_END)
    )
    if orphans_kept.size:
        keep = np.union1d(keep, orphans_kept)
    src = [keep, nt.on_event, nt.off_event[ended], np.full(close.size, _SRC_CLOSE, np.int64)]
    tick = [event_tick[keep], start, end[ended], end[close]]
    track = [ev.track[keep], nt.track, nt.track[ended], nt.track[close]]
    note = [np.full(keep.size, -1, np.int64), np.arange(len(nt)), np.flatnonzero(ended), close]
    # one end_of_track per track, after everything else in it
    eot_tick = np.zeros(ev.n_tracks, np.int64)
    is_end = ev.kind == KIND_END
    for tr, tk in zip([ev.track[is_end], *track], [event_tick[is_end], *tick], strict=True):
        ak.track_max(eot_tick, tr, tk)
    src.append(np.full(ev.n_tracks, _SRC_EOT, np.int64))
    tick.append(eot_tick)
    track.append(np.arange(ev.n_tracks))
    note.append(np.full(ev.n_tracks, -1, np.int64))
    # int32 rows: a file holds fewer than 2**31 events, and this is the render's peak of memory
    return dict(
        src=np.concatenate(src, dtype=np.int32),
        tick=np.concatenate(tick),
        track=np.concatenate(track),
        note=np.concatenate(note, dtype=np.int32),
        n_keep=keep.size,
        n_events=ev.tick.size,
        last_row=ev.track_start[1:] - 1,
        close_track=nt.track[close],
    )


def row_order(rows):
    """Each row's place in file order (ties: closing note-offs of one track, by note)."""
    n_events = rows["n_events"]
    n_close, n_tracks = rows["close_track"].size, rows["last_row"].size
    src = rows["src"]
    # twice the event row keeps file order; a closing note-off goes after its track's events
    return np.concatenate(
        [
            2 * src[: src.size - n_close - n_tracks].astype(np.int64),
            2 * rows["last_row"][rows["close_track"]] + 1,
            np.full(n_tracks, 2 * n_events + 2),
        ]
    )


def _budget(n: int) -> int:
    """Moves an insertion sort may make before a full sort is cheaper."""
    return 16 * n + 1024


def _note_order(group, start):
    """Notes by (group, start, note): ``np.lexsort((np.arange(n), start, group))``."""
    n = group.size
    if n == 0:
        return np.zeros(0, np.int64)
    # a stable sort of 16-bit keys is a radix sort: one linear pass
    keys = group.astype(np.int16) if group.max() < 2**15 else group
    order = np.argsort(keys, kind="stable").astype(np.int64)
    g = group[order]
    bounds = np.concatenate([[0], np.flatnonzero(g[1:] != g[:-1]) + 1, [n]]).astype(np.int64)
    if ak.sort_segments(order, start, bounds, _budget(n)):
        return order
    return np.lexsort((np.arange(n), start, group))


def _order(ev, nt, rows, group, group_moved, close):
    """Output permutation: by track, tick, original order; offs before ons of one key."""
    n_keep, n_notes = rows["n_keep"], len(nt)
    ended = nt.ended
    n_off = int(ended.sum())
    row_of_event = np.full(ev.tick.size, -1, np.int64)
    row_of_event[rows["src"][:n_keep]] = np.arange(n_keep)
    row_of_event[nt.on_event] = n_keep + np.arange(n_notes)
    row_of_event[nt.off_event[ended]] = n_keep + n_notes + np.arange(n_off)
    close_base = n_keep + n_notes + n_off
    perm, bounds = ak.event_rows(
        ev.track_start, row_of_event, nt.track[close], close_base, close_base + close.size
    )
    if not ak.sort_segments(perm, rows["tick"], bounds, _budget(perm.size)):
        perm = np.lexsort((row_order(rows), rows["tick"], rows["track"]))
    is_on, is_off, key, fix, any_fix = ak.note_keys(
        rows["note"], n_keep, n_notes, group, group_moved
    )
    if any_fix:
        rk.offs_before_ons(perm, rows["tick"], rows["track"], is_on, is_off, key, fix)
    rows["bounds"] = bounds  # sorting keeps each track's rows where they were
    return perm


def _gather(ev, nt, perm, rows, velocity, tpb_out):
    """The output rows in order, to gather when written (see _Ordered)."""
    return _Ordered(
        ev.fmt,
        tpb_out,
        ev.n_tracks,
        perm,
        rows["src"],
        rows["note"],
        rows["tick"],
        rows["n_keep"],
        ev,
        velocity,
        nt.channel,
        nt.pitch,
        rows["bounds"],
    )
