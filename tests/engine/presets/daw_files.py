"""Writers of DAW groove files for the tests, from the formats' own descriptions.

Ableton .agr: ``<Ableton><Groove>`` with the clip at ``Groove/Clip/Value/MidiClip``
(Live 9: notes with Time, Duration, Velocity, OffVelocity, IsEnabled; Live 11
adds VelocityDeviation, Probability, NoteId), gzip or plain.  SWS .rgt:
``Version``, ``Number of beats in groove``, ``Groove: M positions``, then the
points.  Tracktion: ``<GROOVETEMPLATE>`` with ``<SHIFT delta>`` children,
alone or in ``<GROOVETEMPLATES>``.
"""

from __future__ import annotations

import gzip
from pathlib import Path


def _note(time, velocity, enabled, live11, i):
    extra = (
        f' VelocityDeviation="0" OffVelocity="64" Probability="1" IsEnabled="{enabled}" '
        f'NoteId="{i + 1}"'
        if live11
        else f' OffVelocity="64" IsEnabled="{enabled}"'
    )
    return f'<MidiNoteEvent Time="{time}" Duration="0.0625" Velocity="{velocity}"{extra} />'


def agr_xml(
    notes,
    loop=(0, 4),
    grid=3,
    amounts=(0, 100, 0, 0),
    live11=True,
    current_end=1,
    root="Ableton",
) -> str:
    """The XML of a Live groove; ``notes`` are ``(time, velocity[, enabled])``."""
    events = "".join(
        _note(n[0], n[1], "true" if len(n) < 3 or n[2] else "false", live11, i)
        for i, n in enumerate(notes)
    )
    version = (
        'MajorVersion="5" MinorVersion="11.0_433" Creator="Ableton Live 11.0"'
        if live11
        else 'MajorVersion="4" MinorVersion="9.7_178" Creator="Ableton Live 9.7.7"'
    )
    q, t, r, v = amounts
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} {version}><Groove>'
        '<Name Value="" /><Clip><Value><MidiClip Id="0" Time="0">'
        f'<CurrentStart Value="0" /><CurrentEnd Value="{current_end}" />'
        f'<Loop><LoopStart Value="{loop[0]}" /><LoopEnd Value="{loop[1]}" />'
        '<LoopOn Value="true" /></Loop><Name Value="groove" />'
        f'<Notes><KeyTracks><KeyTrack Id="0"><Notes>{events}</Notes>'
        '<MidiKey Value="36" /></KeyTrack></KeyTracks></Notes>'
        "</MidiClip></Value></Clip>"
        f'<Grid Value="{grid}" /><QuantizationAmount Value="{q}" />'
        f'<TimingAmount Value="{t}" /><RandomAmount Value="{r}" />'
        f'<VelocityAmount Value="{v}" /></Groove></{root}>\n'
    )


def write_agr(path, notes, compress=True, **kw) -> Path:
    data = agr_xml(notes, **kw).encode()
    Path(path).write_bytes(gzip.compress(data) if compress else data)
    return Path(path)


def rgt_text(version, beats, points, count=None, fmt=repr) -> str:
    """An .rgt; ``points`` are positions (version 0) or ``(position, amp)`` (version 1)."""
    lines = [
        f"Version: {version}",
        f"Number of beats in groove: {beats}",
        f"Groove: {len(points) if count is None else count} positions",
    ]
    for p in points:
        lines.append(" ".join(fmt(v) for v in p) if version == 1 else fmt(p))
    return "\r\n".join(lines) + "\r\n"


def write_rgt(path, version, beats, points, **kw) -> Path:
    Path(path).write_text(rgt_text(version, beats, points, **kw), newline="")
    return Path(path)


def windows_float(value: float) -> str:
    """``%g`` as MSVC's C runtime printed it: three exponent digits (``1e-007``)."""
    text = f"{value:g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{exp[0]}{int(exp[1:]):03d}"
    return text


def tracktion_xml(templates, wrapper=True) -> str:
    """``templates``: ``(name, numberOfNotes, notesPerBeat, parameterized, [delta text])``."""
    parts = []
    for name, n, per_beat, param, deltas in templates:
        shifts = "".join(f'<SHIFT delta="{d}"/>' for d in deltas)
        parts.append(
            f'<GROOVETEMPLATE name="{name}" numberOfNotes="{n}" notesPerBeat="{per_beat}" '
            f'parameterized="{param}">{shifts}</GROOVETEMPLATE>'
        )
    body = "".join(parts)
    return f"<GROOVETEMPLATES>{body}</GROOVETEMPLATES>" if wrapper else body


def write_tracktion(path, templates, wrapper=True) -> Path:
    Path(path).write_text(tracktion_xml(templates, wrapper))
    return Path(path)


def swing_points(amount, grid_beat, beats):
    """Positions of a swing on ``grid_beat`` steps over ``beats``: every other one late."""
    out = []
    n = int(round(beats / grid_beat))
    for k in range(n):
        late = (amount - 50) / 50 * grid_beat if k % 2 else 0.0
        out.append(k * grid_beat + late)
    return out
