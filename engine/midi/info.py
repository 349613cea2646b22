"""What is in a MIDI file, and how far its notes sit off the grid (``groove info``).

The grid report measures each note-on against the nearest 1/16 line: the
median and 90th percentile of the absolute offset, in milliseconds (at the
tempo of the note) and in percent of a 16th.  Quantized files show ~0;
human playing shows several ms.  Main thread.
"""

from __future__ import annotations

import numpy as np

#: Grid the offsets are measured against, in beats (a 16th note).
GRID_BEAT = 0.25
#: Below this p90 offset (percent of a 16th) a file counts as quantized.
QUANTIZED_PCT = 1.0
_SHOW = 12  # tempo / time signature changes listed in text output


def describe(path) -> dict:
    """Everything ``groove info`` prints, as plain data."""
    from engine.host.tempo import bars
    from engine.midi import midifile
    from engine.midi.notetable import EventTable, NoteTable

    ev = EventTable.from_raw(midifile.read_raw(path), path)
    nt = NoteTable.from_events(ev)
    tpb = ev.ticks_per_beat
    maps = ev.tempo_maps()
    ends = ev.track_end_tick()
    tracks = []
    for t in range(ev.n_tracks):
        mine = nt.track == t
        chans, counts = np.unique(nt.channel[mine], return_counts=True)
        tracks.append(
            dict(
                index=t,
                name=ev.names[t],
                events=int(ev.track_start[t + 1] - ev.track_start[t]),
                notes=int(mine.sum()),
                channels={str(int(c) + 1): int(n) for c, n in zip(chans, counts)},
            )
        )
    length_tick = int(ends.max()) if ends.size else 0
    seconds = max((float(maps[t].seconds(ends[t])) for t in range(ev.n_tracks)), default=0.0)
    return dict(
        file=str(path),
        format=ev.fmt,
        ticks_per_beat=tpb,
        tracks=tracks,
        notes=len(nt),
        channels=sorted({c for tr in tracks for c in tr["channels"]}, key=int),
        tempo_changes=[
            dict(tick=int(t), track=int(k), bpm=round(60e6 / u, 3)) for t, k, u in sorted(ev.tempos)
        ],
        time_signatures=[
            dict(tick=int(t), track=int(k), signature=f"{n}/{d}")
            for t, k, n, d in sorted(ev.time_signatures)
        ],
        length=dict(
            ticks=length_tick,
            beats=length_tick / tpb,
            bars=round(bars([(t, n, d) for t, _, n, d in ev.time_signatures], tpb, length_tick), 3),
            seconds=round(seconds, 3),
        ),
        grid=grid_offsets(nt.start_tick, nt.track, tpb, maps),
        unended_notes=int((~nt.ended).sum()),
        orphan_note_offs=int(nt.orphan_off.size),
    )


def grid_offsets(start_tick, track, tpb, maps) -> dict:
    """Median and p90 absolute offset of note starts from the 1/16 grid."""
    if start_tick.size == 0:
        return dict(grid="1/16", notes=0)
    beat = start_tick / tpb
    off_beat = np.abs(beat - np.floor(beat / GRID_BEAT + 0.5) * GRID_BEAT)
    tempo = (
        np.array([maps[t].tempo_at(s) for t, s in zip(track, start_tick)])
        if len({id(m) for m in maps}) > 1
        else maps[0].tempo_at(start_tick)
    )
    off_ms = off_beat * tempo / 1000.0
    pct = off_beat / GRID_BEAT * 100.0
    med_pct, p90_pct = np.percentile(pct, [50, 90])
    med_ms, p90_ms = np.percentile(off_ms, [50, 90])
    return dict(
        grid="1/16",
        notes=int(start_tick.size),
        median_ms=round(float(med_ms), 3),
        p90_ms=round(float(p90_ms), 3),
        median_pct=round(float(med_pct), 3),
        p90_pct=round(float(p90_pct), 3),
        quantized=bool(p90_pct < QUANTIZED_PCT),
    )


def _listing(items, fmt) -> list:
    lines = [fmt(x) for x in items[:_SHOW]]
    if len(items) > _SHOW:
        lines.append(f"... and {len(items) - _SHOW} more")
    return lines


def format_text(info: dict) -> str:
    ln = info["length"]
    out = [
        f"{info['file']}",
        f"  format {info['format']}, {len(info['tracks'])} track(s), "
        f"{info['ticks_per_beat']} ticks per beat, {info['notes']} notes",
        f"  length: {ln['bars']:g} bars, {ln['beats']:g} beats, {ln['seconds']:.3f} s "
        f"({ln['ticks']} ticks)",
    ]
    out.append(
        "  tempo: "
        + (
            ", ".join(
                _listing(info["tempo_changes"], lambda t: f"{t['bpm']:g} BPM at tick {t['tick']}")
            )
            or "none (120 BPM)"
        )
    )
    out.append(
        "  time signatures: "
        + (
            ", ".join(
                _listing(info["time_signatures"], lambda s: f"{s['signature']} at tick {s['tick']}")
            )
            or "none (4/4)"
        )
    )
    out.append("  tracks:")
    shown = info["tracks"][:64]
    for tr in shown:
        chans = ", ".join(f"ch {c}: {n}" for c, n in tr["channels"].items())
        name = f" '{tr['name']}'" if tr["name"] else ""
        out.append(
            f"    {tr['index']}{name}: {tr['notes']} notes"
            f"{' (' + chans + ')' if chans else ''}, {tr['events']} events"
        )
    if len(info["tracks"]) > len(shown):
        out.append(f"    ... and {len(info['tracks']) - len(shown)} more tracks")
    g = info["grid"]
    if g["notes"]:
        verdict = (
            "on the grid (quantized)"
            if g["quantized"]
            else "off the grid (played, or already grooved)"
        )
        out.append(
            f"  off the 1/16 grid: median {g['median_ms']:.1f} ms "
            f"({g['median_pct']:.1f}% of a 16th), p90 {g['p90_ms']:.1f} ms "
            f"({g['p90_pct']:.1f}%): {verdict}"
        )
    for key, what in (
        ("unended_notes", "note(s) never end"),
        ("orphan_note_offs", "note-off(s) end no note"),
    ):
        if info[key]:
            out.append(f"  warning: {info[key]} {what}")
    return "\n".join(out)
