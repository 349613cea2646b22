"""A slow, obviously-correct reference of ``groove render`` for the tests.

Pure Python with exact fractions, one message at a time, written apart
from the renderer: its own absolute-time walk over mido messages, its own
FIFO note pairing, its own piecewise-linear groove (knots on a grid,
straight lines between), its own note tidying.  Tests render a file with
the engine and compare what comes out with what this module expects.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

CHANNEL_TYPES = {
    "note_on",
    "note_off",
    "control_change",
    "pitchwheel",
    "aftertouch",
    "polytouch",
    "program_change",
}


class LinearGroove:
    """T(t) = t + timing * D(t), D linear between knots k*step -> offsets[k]*step."""

    def __init__(self, offsets, step_beat):
        self.offsets = [Fraction(o).limit_denominator(10**9) for o in offsets]
        self.step = Fraction(step_beat)

    @classmethod
    def swing(cls, amount, step_beat=Fraction(1, 4)):
        return cls([0, (Fraction(amount) - 50) / 50], step_beat)

    def forward(self, t: Fraction, timing=1) -> Fraction:
        n = len(self.offsets)
        period = self.step * n
        u = t - math.floor(t / period) * period
        k = math.floor(u / self.step)
        frac = (u - k * self.step) / self.step
        d = self.offsets[k] * (1 - frac) + self.offsets[(k + 1) % n] * frac
        return t + Fraction(timing) * d * self.step


def nearest(x: Fraction):
    """(nearest tick, ties up, never below 0; whether x was exactly halfway)."""
    return max(math.floor(x + Fraction(1, 2)), 0), (x - math.floor(x)) == Fraction(1, 2)


def absolute(mid):
    """Per track: [(tick, message)] in file order."""
    tracks = []
    for track in mid.tracks:
        now, rows = 0, []
        for msg in track:
            now += msg.time
            rows.append((now, msg))
        tracks.append(rows)
    return tracks


def is_on(msg):
    return msg.type == "note_on" and msg.velocity > 0


def is_off(msg):
    return msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)


def pair(rows):
    """FIFO pairing of one track: notes as dicts, and the rows of orphan note-offs."""
    open_notes, notes, orphans = defaultdict(list), [], []
    for i, (tick, msg) in enumerate(rows):
        if is_on(msg):
            note = dict(
                start=tick,
                end=None,
                channel=msg.channel,
                pitch=msg.note,
                velocity=msg.velocity,
                index=len(notes),
            )
            notes.append(note)
            open_notes[(msg.channel, msg.note)].append(note)
        elif is_off(msg):
            queue = open_notes[(msg.channel, msg.note)]
            if queue:
                queue.pop(0)["end"] = tick
            else:
                orphans.append(i)
    return notes, orphans


def expected(
    mid, groove: LinearGroove, timing=1, quantize=0, ends="groove", tpb_out=None, only_notes=False
):
    """What the renderer should write, per track.

    Returns a list (one entry per track) of dicts: ``notes`` maps (channel,
    pitch) to [(start, end, start_tie, end_tie, velocity)] sorted by start
    (end None: left unended); ``orphans`` counts note-offs left in place;
    ``channel`` and ``fixed`` are sorted [(tick, tie, bytes)] of other events.
    """
    tpb = mid.ticks_per_beat
    tpb_out = tpb_out or tpb
    same = tpb_out == tpb
    out = []
    for rows in absolute(mid):
        end_tick = rows[-1][0] if rows else 0
        notes, orphans = pair(rows)
        groups = defaultdict(list)
        for note in notes:
            groups[(note["channel"], note["pitch"])].append(note)
        result = dict(notes={}, orphans=0, channel=[], fixed=[])
        moved_groups = set()
        for key, members in groups.items():
            placed = [
                _place(n, end_tick, tpb, tpb_out, groove, timing, quantize, ends) for n in members
            ]
            moved = not same or any(
                p[0] != n["start"] or (n["end"] is not None and p[1] != n["end"])
                for p, n in zip(placed, members)
            )
            if moved:
                moved_groups.add(key)
            if not moved:
                rows_out = [(n["start"], n["end"], False, False, n["velocity"]) for n in members]
            else:
                rows_out = _tidy(placed, [n["velocity"] for n in members])
            result["notes"][key] = sorted(rows_out, key=lambda r: r[0])
        result["orphans"] = sum(
            1 for i in orphans if (rows[i][1].channel, rows[i][1].note) not in moved_groups
        )
        for tick, msg in rows:
            if msg.type == "end_of_track" or msg.type in ("note_on", "note_off"):
                continue
            beat = Fraction(tick, tpb)
            if msg.type in CHANNEL_TYPES:
                pos = beat if only_notes else groove.forward(beat, timing)
                t, tie = nearest(pos * tpb_out)
                result["channel"].append((t, tie, bytes(msg.bytes())))
            else:
                t, tie = nearest(beat * tpb_out)
                result["fixed"].append(
                    (t, tie, bytes(msg.bin()) if msg.is_meta else bytes(msg.bytes()))
                )
        result["channel"].sort()
        result["fixed"].sort()
        out.append(result)
    return out


def _place(note, end_tick, tpb, tpb_out, groove, timing, quantize, ends):
    """(start, end, start_tie, end_tie, ended) of one note, before tidying."""
    start = Fraction(note["start"], tpb)
    end = Fraction(end_tick if note["end"] is None else note["end"], tpb)
    grid = groove.step
    q_start = start + Fraction(quantize) * (
        math.floor(start / grid + Fraction(1, 2)) * grid - start
    )
    new_start = groove.forward(q_start, timing)
    if ends == "groove":
        new_end = groove.forward(end + (q_start - start), timing)
    else:
        new_end = new_start + (end - start)
    s, s_tie = nearest(new_start * tpb_out)
    e, e_tie = nearest(new_end * tpb_out)
    return s, e, s_tie, e_tie, note["end"] is not None


def _tidy(placed, velocities):
    """The hygiene rules, one note at a time, for a group where something moved.

    A value taken over from another note keeps that note's tie flag (a tie
    in the reference may be rounded either way by the renderer's floats).
    """
    order = sorted(range(len(placed)), key=lambda i: (placed[i][0], i))
    starts = {i: (placed[i][0], placed[i][2]) for i in order}
    for a, b in zip(order, order[1:]):
        if starts[b][0] <= starts[a][0]:
            starts[b] = (starts[a][0] + 1, starts[a][1] or starts[b][1])
    rows = []
    for pos, i in enumerate(order):
        end, end_tie = placed[i][1], placed[i][3]
        if pos + 1 < len(order) and end >= starts[order[pos + 1]][0]:
            end, end_tie = starts[order[pos + 1]][0], end_tie or starts[order[pos + 1]][1]
        if end <= starts[i][0]:
            end, end_tie = starts[i][0] + 1, end_tie or starts[i][1]
        rows.append((starts[i][0], end, starts[i][1], end_tie, velocities[i]))
    return rows


def observed(mid):
    """The same structure as ``expected``, read from a rendered file."""
    out = []
    for rows in absolute(mid):
        notes, orphans = pair(rows)
        result = dict(notes=defaultdict(list), orphans=len(orphans), channel=[], fixed=[])
        for n in notes:
            result["notes"][(n["channel"], n["pitch"])].append(
                (n["start"], n["end"], n["velocity"])
            )
        for tick, msg in rows:
            if msg.type == "end_of_track" or msg.type in ("note_on", "note_off"):
                continue
            if msg.type in CHANNEL_TYPES:
                result["channel"].append((tick, bytes(msg.bytes())))
            else:
                result["fixed"].append(
                    (tick, bytes(msg.bin()) if msg.is_meta else bytes(msg.bytes()))
                )
        result["channel"].sort()
        result["fixed"].sort()
        out.append(result)
    return out


def _close(got, want, tie):
    return got == want or (tie and abs(got - want) == 1)


def compare(exp, obs):
    """Mismatches between ``expected`` and ``observed`` as readable strings (empty: equal)."""
    problems = []
    if len(exp) != len(obs):
        return [f"{len(obs)} tracks, expected {len(exp)}"]
    for t, (e, o) in enumerate(zip(exp, obs)):
        for key, rows in e["notes"].items():
            got = sorted(o["notes"].get(key, []), key=lambda r: r[0])
            if len(got) != len(rows):
                problems.append(f"track {t} {key}: {len(got)} notes, expected {len(rows)}")
                continue
            for g, w in zip(got, rows):
                s_ok = _close(g[0], w[0], w[2])
                e_ok = (w[1] is None and g[1] is None) or (
                    w[1] is not None and g[1] is not None and _close(g[1], w[1], w[3])
                )
                if not (s_ok and e_ok and g[2] == w[4]):
                    problems.append(f"track {t} {key}: got {g}, expected {w[:2]} vel {w[4]}")
        if o["orphans"] != e["orphans"]:
            problems.append(f"track {t}: {o['orphans']} orphan note-offs, expected {e['orphans']}")
        for name in ("channel", "fixed"):
            if len(o[name]) != len(e[name]):
                problems.append(f"track {t}: {len(o[name])} {name} events, expected {len(e[name])}")
                continue
            for g, w in zip(o[name], e[name]):
                if g[1] != w[2] or not _close(g[0], w[0], w[1]):
                    problems.append(f"track {t} {name}: got {g}, expected {w}")
    return problems
