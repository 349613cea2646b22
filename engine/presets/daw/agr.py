"""Ableton Live grooves (.agr): read Live 9/10/11 files, write a Live 11-shaped one.

An .agr is XML, gzip-compressed (Live 9 writes it so; the bytes start
1f 8b) or plain.  Its root is ``<Ableton>`` with a ``<Groove>`` child: the
groove clip ``Groove/Clip/Value/MidiClip``, whose loop (``LoopEnd -
LoopStart``, not ``CurrentEnd``) is the groove's length and whose notes
are the groove points, and the groove's base grid and amounts.

How Live applies one (its manual, "Using Grooves"): a clip note moves
towards the groove note nearest its base-grid step, so as a template each
groove note pulls its nearest step to the note's time, steps without a
note stay, and velocities are accents relative to the loudest note.

Amounts: Quantization, Timing and Velocity (percent) become ``quantize``,
``timing`` and ``velocity_amount``.  Live does not document the scale of
Random; it only shakes timing, and here 100 % is a Gaussian of
:data:`RANDOM_MS_AT_100` ms sigma (``random.time_ms``), linear below.
"""

from __future__ import annotations

import gzip
import zlib

from .common import (
    Imported,
    Point,
    check_template,
    exact_period,
    fail,
    fmt,
    fold_points,
    number,
    points_to_template,
    preset_name,
    read_capped,
    repeat_note,
    stem,
)
from .xmlsafe import parse_xml, value_of

#: Live's base grid index -> grid.
LIVE_GRIDS = ("1/4", "1/8", "1/8t", "1/16", "1/16t", "1/32")
#: ``random.time_ms`` for Live's Random at 100 % (Live leaves its scale undocumented).
RANDOM_MS_AT_100 = 10.0
#: Largest .agr file read, and largest decompressed XML (a real groove is ~20 KiB).
MAX_FILE_BYTES = 4 << 20
MAX_XML_BYTES = 16 << 20
_WHAT = "an Ableton groove"


def read_xml_bytes(path) -> tuple:
    """``(xml bytes, compressed?)`` of an .agr: gunzipped (size-capped) or as is."""
    data = read_capped(path, MAX_FILE_BYTES, _WHAT)
    if data[:2] != b"\x1f\x8b":
        return data, False
    inflater = zlib.decompressobj(wbits=31)
    try:
        xml = inflater.decompress(data, MAX_XML_BYTES + 1)
    except zlib.error as exc:
        raise fail(path, f"corrupt gzip data ({exc}); the file is damaged") from None
    if len(xml) > MAX_XML_BYTES:
        raise fail(path, f"the gzip data expands to more than {MAX_XML_BYTES >> 20} MiB; refused")
    if not inflater.eof:
        raise fail(path, "the gzip data is truncated (it ends before its end marker)")
    return xml, True


def _refuse_non_xml(xml: bytes, path) -> None:
    head = xml.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return
    if xml[:3] == b"ab1":  # the signature of Live's binary documents
        raise fail(
            path,
            "this is Live's older binary groove format (some factory grooves still "
            "are); drag it into Live's groove pool and save it again to get an XML .agr",
        )
    if b"\x00" in xml[:4096]:
        raise fail(path, f"not {_WHAT}: the file is binary (or UTF-16 text; Live writes UTF-8 XML)")
    raise fail(path, f"not {_WHAT}: the file is not XML")


def _amount(groove, tag, path, lo, hi):
    raw = value_of(groove, tag)
    if raw is None:
        return None
    value = number(raw, path, f"Groove/{tag}")
    if not lo <= value <= hi:
        raise fail(path, f"Groove/{tag}: {fmt(value)} is outside {lo}..{hi}")
    return value


def _notes(clip, path) -> tuple:
    points, disabled = [], 0
    for i, ev in enumerate(clip.iterfind("Notes/KeyTracks/KeyTrack/Notes/MidiNoteEvent")):
        if (ev.get("IsEnabled") or "true").strip().lower() == "false":
            disabled += 1
            continue
        t = number(ev.get("Time"), path, f"MidiNoteEvent {i} Time")
        vel = number(ev.get("Velocity", "127"), path, f"MidiNoteEvent {i} Velocity")
        if not 0 <= vel <= 127:
            raise fail(path, f"MidiNoteEvent {i} Velocity: {fmt(vel)} is outside 0..127")
        number(ev.get("Duration", "0"), path, f"MidiNoteEvent {i} Duration")
        points.append(Point(t, vel))
    return points, disabled


def read(path, grid: str | None = None) -> list:
    """The groove of an .agr file as one :class:`Imported`; DawError when it is not one."""
    xml, compressed = read_xml_bytes(path)
    _refuse_non_xml(xml, path)
    root = parse_xml(xml, path, _WHAT)
    groove = root.find("Groove")
    if root.tag != "Ableton" or groove is None:
        raise fail(
            path,
            f"not {_WHAT}: the XML root is <{root.tag}>"
            + ("" if root.tag != "Ableton" else " without a <Groove>")
            + " (an Ableton groove has <Ableton><Groove>)",
        )
    clip = groove.find("Clip/Value/MidiClip")
    if clip is None:
        raise fail(path, "the groove has no clip (Groove/Clip/Value/MidiClip is missing)")
    start_raw, end_raw = value_of(clip, "Loop/LoopStart"), value_of(clip, "Loop/LoopEnd")
    if start_raw is None or end_raw is None:
        raise fail(path, "the groove clip has no loop (Loop/LoopStart and Loop/LoopEnd)")
    start = number(start_raw, path, "Loop/LoopStart")
    end = number(end_raw, path, "Loop/LoopEnd")
    period = exact_period(end - start, path, "the loop (LoopEnd - LoopStart)")
    grid_raw = value_of(groove, "Grid")
    if grid_raw is None:
        raise fail(path, "Groove/Grid is missing (the base grid, 0..5)")
    index = number(grid_raw, path, "Groove/Grid")
    if not index.is_integer() or not 0 <= index < len(LIVE_GRIDS):
        raise fail(path, f"Groove/Grid: {grid_raw!r} is not a Live base grid (0..5)")
    base = LIVE_GRIDS[int(index)]
    notes, disabled = _notes(clip, path)
    if not notes:
        raise fail(path, "the groove clip has no (enabled) notes")
    points, warnings = fold_points(
        [Point(p.beat - start, p.level) for p in notes], period, path, wrap=False
    )
    if not points:
        raise fail(path, "no note of the groove clip lies inside its loop")
    use = grid or base
    fields, more = points_to_template(points, period, use, path)
    check_template(fields, path)
    warnings += more
    if disabled:
        warnings.append(f"{disabled} disabled note(s) ignored")
    amounts = {
        "quantize": _amount(groove, "QuantizationAmount", path, 0, 100),
        "timing": _amount(groove, "TimingAmount", path, 0, 100),
        "random": _amount(groove, "RandomAmount", path, 0, 100),
        "velocity_amount": _amount(groove, "VelocityAmount", path, -100, 100),
    }
    _set_amounts(fields, amounts)
    creator = root.get("Creator") or f"Live schema {root.get('MinorVersion', '?')}"
    header = [
        f"Imported from {path} by `groove import`.",
        f"Format: Ableton Live groove (.agr, {'gzip' if compressed else 'plain'} XML, "
        f"written by {creator}).",
        f"Settings: base grid {base}"
        + (f" (read on {grid} as asked)" if grid and grid != base else "")
        + f", loop {fmt(start)}..{fmt(end)} beats, {len(notes)} note(s); "
        + ", ".join(
            f"{label} {fmt(v)}%"
            for label, v in zip(("Quantization", "Timing", "Random", "Velocity"), amounts.values())
            if v is not None
        )
        + ".",
        f"Random {fmt(amounts['random'] or 0)}% -> random.time_ms "
        f"{fmt((amounts['random'] or 0) * RANDOM_MS_AT_100 / 100)} "
        f"(100% = {fmt(RANDOM_MS_AT_100)} ms sigma).",
    ] + repeat_note(fields, end - start)
    name_node = value_of(groove, "Name")
    return [Imported(preset_name(stem(path) or name_node or ""), fields, header, warnings)]


def _set_amounts(fields: dict, amounts: dict) -> None:
    if amounts["timing"] is not None and amounts["timing"] != 100:
        fields["timing"] = amounts["timing"] / 100
    if amounts["quantize"]:
        fields["quantize"] = amounts["quantize"] / 100
    if amounts["velocity_amount"]:
        fields["velocity_amount"] = amounts["velocity_amount"] / 100
    if amounts["random"]:
        fields["random"] = {"time_ms": amounts["random"] * RANDOM_MS_AT_100 / 100}


# -- writing ---------------------------------------------------------------


def _num(value: float) -> str:
    # full precision (repr) so that importing gives back the same curve; "4", not "4.0"
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _note_xml(i: int, time: float, duration: float, velocity: float) -> str:
    return (
        f'<MidiNoteEvent Time="{_num(time)}" Duration="{_num(duration)}" '
        f'Velocity="{_num(velocity)}" '
        f'VelocityDeviation="0" OffVelocity="64" Probability="1" IsEnabled="true" '
        f'NoteId="{i + 1}" />'
    )


def _v(tag: str, value) -> str:
    return f'<{tag} Value="{value}" />'


def document(
    name: str, grid: str, period: float, times, velocities, amounts: dict, step: float
) -> bytes:
    """A gzip-compressed Live 11 groove document: one note per grid step."""
    notes = "".join(_note_xml(i, t, step / 2, v) for i, (t, v) in enumerate(zip(times, velocities)))
    loop = "".join(
        [
            _v("LoopStart", 0),
            _v("LoopEnd", _num(period)),
            _v("StartRelative", 0),
            _v("LoopOn", "true"),
            _v("OutMarker", _num(period)),
            _v("HiddenLoopStart", 0),
            _v("HiddenLoopEnd", _num(period)),
        ]
    )
    clip = (
        '<MidiClip Id="0" Time="0">'
        + _v("LomId", 0)
        + _v("LomIdView", 0)
        + _v("CurrentStart", 0)
        + _v("CurrentEnd", _num(period))
        + f"<Loop>{loop}</Loop>"
        + _v("Name", _attr(name))
        + _v("Annotation", "")
        + _v("Color", 2)
        + _v("LaunchMode", 0)
        + _v("LaunchQuantisation", 0)
        + '<TimeSignature><TimeSignatures><RemoteableTimeSignature Id="0">'
        + _v("Numerator", 4)
        + _v("Denominator", 4)
        + _v("Time", 0)
        + "</RemoteableTimeSignature></TimeSignatures></TimeSignature>"
        + "<Envelopes><Envelopes /></Envelopes>"
        + "<ScrollerTimePreserver>"
        + _v("LeftTime", 0)
        + _v("RightTime", _num(period))
        + "</ScrollerTimePreserver>"
        + "<TimeSelection>"
        + _v("AnchorTime", 0)
        + _v("OtherTime", 0)
        + "</TimeSelection>"
        + _v("Legato", "false")
        + _v("Ram", "false")
        + "<GrooveSettings>"
        + _v("GrooveId", -1)
        + "</GrooveSettings>"
        + _v("Disabled", "false")
        + _v("VelocityAmount", 0)
        + "<Grid>"
        + _v("FixedNumerator", 1)
        + _v("FixedDenominator", 16)
        + _v("GridIntervalPixel", 20)
        + _v("Ntoles", 2)
        + _v("SnapToGrid", "true")
        + _v("Fixed", "false")
        + "</Grid>"
        + _v("FreezeStart", 0)
        + _v("FreezeEnd", 0)
        + _v("IsWarped", "true")
        + _v("TakeId", 1)
        + '<Notes><KeyTracks><KeyTrack Id="0"><Notes>'
        + notes
        + "</Notes>"
        + _v("MidiKey", 60)
        + "</KeyTrack></KeyTracks>"
        + "<PerNoteEventStore><EventLists /></PerNoteEventStore>"
        + "<NoteProbabilityGroups />"
        + _v("ProbabilityGroupIdGenerator", 0)
        + "<NoteIdGenerator>"
        + _v("NextId", len(times) + 1)
        + "</NoteIdGenerator></Notes>"
        + _v("BankSelectCoarse", -1)
        + _v("BankSelectFine", -1)
        + _v("ProgramChange", -1)
        + _v("NoteEditorFoldInZoom", -1)
        + _v("NoteEditorFoldInScroll", 0)
        + _v("NoteEditorFoldOutZoom", 1)
        + _v("NoteEditorFoldOutScroll", 0)
        + _v("NoteEditorFoldScaleZoom", -1)
        + _v("NoteEditorFoldScaleScroll", 0)
        + "</MidiClip>"
    )
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Ableton MajorVersion="5" MinorVersion="11.0_433" SchemaChangeCount="3" '
        'Creator="Ableton Live 11.0" Revision="">'
        "<Groove>"
        + _v("LomId", 0)
        + _v("Name", _attr(name))
        + f"<Clip><Value>{clip}</Value></Clip>"
        + _v("Grid", LIVE_GRIDS.index(grid))
        + _v("QuantizationAmount", fmt(amounts["quantize"]))
        + _v("TimingAmount", fmt(amounts["timing"]))
        + _v("RandomAmount", fmt(amounts["random"]))
        + _v("VelocityAmount", fmt(amounts["velocity"]))
        + "</Groove></Ableton>\n"
    )
    return gzip.compress(text.encode("utf-8"), mtime=0)


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
