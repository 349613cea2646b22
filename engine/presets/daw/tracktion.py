"""Tracktion / Waveform groove templates (``<GROOVETEMPLATE>`` XML): read and write.

A template (``tracktion_GrooveTemplate.cpp``) is ``numberOfNotes`` cells of
``1 / notesPerBeat`` beats with one ``<SHIFT delta=.../>`` per cell.  Its
map, ``beatsTimeToGroovyTime``, moves cell boundary k by
``0.5 * delta[k mod n] * cell`` and is linear in between: exactly our
linear template with offsets ``0.5 * delta`` on a grid of 1/notesPerBeat
beats over n cells.  ``parameterized="1"`` lets the clip's groove strength
scale it, which is our timing amount (default 1).  Missing SHIFTs read as
0; deltas are clamped to [-1, 1], numberOfNotes to 2..1024 and
notesPerBeat to 1..8 as Tracktion's setters do.  A file holds one template
or a ``<GROOVETEMPLATES>`` list of them (one preset each).
"""

from __future__ import annotations

from .common import Imported, check_template, fail, fmt, number, preset_name, read_capped, stem
from .xmlsafe import parse_xml

MAX_FILE_BYTES = 4 << 20
#: notesPerBeat -> grid (5 and 7 per beat have no grid in the preset format).
NOTES_PER_BEAT_GRIDS = {1: "1/4", 2: "1/8", 3: "1/8t", 4: "1/16", 6: "1/16t", 8: "1/32"}
_WHAT = "a Tracktion groove template"


def _int_attr(node, key, default, lo, hi, path, where, warnings):
    raw = node.get(key)
    if raw is None:
        return default
    value = number(raw, path, f"{where} {key}")
    if not value.is_integer():
        raise fail(path, f"{where} {key}: {raw!r} is not a whole number")
    clamped = int(min(max(value, lo), hi))
    if clamped != value:
        warnings.append(f"{where} {key} {raw} clamped to {clamped} (Tracktion's range {lo}..{hi})")
    return clamped


def _template(node, index, path) -> Imported:
    warnings: list = []
    raw_name = node.get("name") or f"template-{index + 1}"
    where = f"GROOVETEMPLATE {raw_name!r}"
    n = _int_attr(node, "numberOfNotes", 16, 2, 1024, path, where, warnings)
    per_beat = _int_attr(node, "notesPerBeat", 2, 1, 8, path, where, warnings)
    # juce::XmlElement::getBoolAttribute: true when the first non-blank character is 1, t or y
    parameterized = (node.get("parameterized") or "0").strip()[:1] in ("1", "t", "T", "y", "Y")
    grid = NOTES_PER_BEAT_GRIDS.get(per_beat)
    if grid is None:
        raise fail(
            path,
            f"{where}: notesPerBeat {per_beat} (cells of 1/{per_beat} beat) has no grid in "
            "the preset format (1, 2, 3, 4, 6 or 8 per beat do)",
        )
    shifts = node.findall("SHIFT")
    deltas = []
    for k in range(n):
        raw = shifts[k].get("delta", "0") if k < len(shifts) else "0"
        d = number(raw, path, f"{where} SHIFT {k} delta")
        if not -1.0 <= d <= 1.0:
            warnings.append(f"{where} SHIFT {k} delta {raw} clamped to [-1, 1]")
            d = min(max(d, -1.0), 1.0)
        deltas.append(d)
    if len(shifts) > n:
        warnings.append(f"{where}: {len(shifts) - n} SHIFT(s) past numberOfNotes {n} ignored")
    period = n / per_beat
    if period > 64:
        raise fail(
            path,
            f"{where}: {n} cells of 1/{per_beat} beat is {fmt(period)} beats, longer than "
            "a preset can hold (64)",
        )
    fields = {
        "kind": "template",
        "period": int(period) if period.is_integer() else period,
        "grid": grid,
        "interp": "linear",
        "offsets": [0.5 * d + 0.0 for d in deltas],
    }
    check_template(fields, path)
    header = [
        f"Imported from {path} by `groove import`.",
        f"Format: Tracktion groove template (GROOVETEMPLATE {raw_name!r}).",
        f"Settings: numberOfNotes {n}, notesPerBeat {per_beat} (grid {grid}), "
        f"parameterized {int(parameterized)} ("
        + (
            "the clip's strength scales it: our timing amount"
            if parameterized
            else "fixed in Tracktion; here the timing amount still scales it"
        )
        + "); offsets = 0.5 * delta.",
    ]
    return Imported(preset_name(raw_name, preset_name(stem(path))), fields, header, warnings)


def read(path, grid: str | None = None) -> list:
    """Every template of a Tracktion XML file, one :class:`Imported` each."""
    root = parse_xml(read_capped(path, MAX_FILE_BYTES, _WHAT), path, _WHAT)
    if root.tag == "GROOVETEMPLATE":
        nodes = [root]
    elif root.tag == "GROOVETEMPLATES":
        nodes = root.findall("GROOVETEMPLATE")
        if not nodes:
            raise fail(path, "<GROOVETEMPLATES> holds no <GROOVETEMPLATE>")
    else:
        raise fail(
            path,
            f"not {_WHAT}: the XML root is <{root.tag}> (expected <GROOVETEMPLATE> "
            "or <GROOVETEMPLATES>)",
        )
    out = [_template(node, i, path) for i, node in enumerate(nodes)]
    if grid is not None:
        for item in out:
            if item.fields["grid"] != grid:
                raise fail(
                    path,
                    f"--grid {grid}: a Tracktion template's grid is its notesPerBeat "
                    f"({item.fields['grid']} here); leave --grid out",
                )
    names: dict = {}
    for item in out:
        base, k = item.name, names.get(item.name, 0)
        names[base] = k + 1
        if k:
            item.name = f"{base}-{k + 1}"
    return out


def element(name: str, per_beat: int, deltas) -> str:
    """One ``<GROOVETEMPLATE>`` element (parameterized: our timing amount scales it)."""
    safe = name.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    shifts = "".join(f'  <SHIFT delta="{d!r}"/>\n' for d in deltas)
    return (
        f'<GROOVETEMPLATE name="{safe}" numberOfNotes="{len(deltas)}" '
        f'notesPerBeat="{per_beat}" parameterized="1">\n{shifts}</GROOVETEMPLATE>\n'
    )


def document(name: str, per_beat: int, deltas) -> bytes:
    """A ``<GROOVETEMPLATES>`` file with one template (Tracktion's own settings shape)."""
    body = element(name, per_beat, deltas)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<GROOVETEMPLATES>\n' + body).encode(
        "utf-8"
    ) + b"</GROOVETEMPLATES>\n"
