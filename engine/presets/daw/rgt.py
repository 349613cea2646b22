"""REAPER SWS groove files (.rgt): read versions 0 and 1, write version 1.

The format (SWS ``Fingers/GrooveTemplates.cpp``)::

    Version: 1
    Number of beats in groove: 4
    Groove: 16 positions
    0 1
    0.285 0.7874
    ...

Each line after the header is a position in beats from the groove's start
and (version 1) an amplitude, velocity/127 or -1 for none.  SWS reads the
numbers with C++ streams, so Windows-written exponents (``1e-007``) occur;
its own files can carry the bar line twice (0 and the next bar's 0) and
fewer points than the grid has steps.  As a template: the grid is the
coarsest of 1/4, 1/8, 1/8t, 1/16, 1/16t, 1/32, 1/32t on which no two
points share a step (or the one asked for), and each point pulls its
nearest step to itself.
"""

from __future__ import annotations

import re

from .common import (
    Imported,
    Point,
    check_template,
    choose_grid,
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

MAX_FILE_BYTES = 1 << 20
#: More points than any real groove has (64 beats of 1/128 notes).
MAX_POINTS = 4096
_WHAT = "an SWS groove"
_HEADERS = (
    (re.compile(r"^\s*Version:\s*(\S+)\s*$"), "Version: 0|1"),
    (re.compile(r"^\s*Number of beats in groove:\s*(\S+)\s*$"), "Number of beats in groove: N"),
    (re.compile(r"^\s*Groove:\s*(\S+)\s+positions?\s*$"), "Groove: M positions"),
)


def _text(path) -> str:
    data = read_capped(path, MAX_FILE_BYTES, _WHAT)
    if b"\x00" in data:
        raise fail(path, f"not {_WHAT}: the file is binary")
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def _header(lines, path) -> tuple:
    values = []
    for i, (pattern, shape) in enumerate(_HEADERS):
        line = lines[i] if i < len(lines) else ""
        m = pattern.match(line)
        if m is None:
            if i == 0:
                raise fail(path, f"not {_WHAT}: the first line is not '{shape}'", 1)
            raise fail(path, f"expected '{shape}', got {line.strip()[:60]!r}", i + 1)
        values.append(m.group(1))
    version = number(values[0], path, "Version", 1)
    if version not in (0, 1):
        raise fail(path, f"Version: {values[0]} is not 0 or 1 (the versions SWS writes)", 1)
    beats = number(values[1], path, "Number of beats in groove", 2)
    if not beats.is_integer() or beats < 1:
        raise fail(path, f"Number of beats in groove: {values[1]} is not a whole number >= 1", 2)
    count = number(values[2], path, "Groove positions", 3)
    if not count.is_integer() or not 1 <= count <= MAX_POINTS:
        raise fail(
            path, f"Groove: {values[2]} positions; expected a whole number 1..{MAX_POINTS}", 3
        )
    return int(version), int(beats), int(count)


def _tokens(lines) -> list:
    out = []
    for lineno, line in enumerate(lines[3:], start=4):
        out.extend((tok, lineno) for tok in line.split())
    return out


def read(path, grid: str | None = None) -> list:
    """The groove of an .rgt file as one :class:`Imported`; DawError when it is not one."""
    lines = _text(path).splitlines()
    version, beats, count = _header(lines, path)
    period = exact_period(float(beats), path, "Number of beats in groove")
    per_point = 2 if version == 1 else 1
    tokens = _tokens(lines)
    if len(tokens) != count * per_point:
        got = len(tokens) / per_point
        raise fail(
            path,
            f"the header says {count} positions, but the file has {fmt(got)}"
            + (" (version 1 lines are 'position amplitude')" if version == 1 else ""),
        )
    points = []
    for i in range(count):
        tok, lineno = tokens[i * per_point]
        pos = number(tok, path, "position", lineno)
        level = None
        if version == 1:
            tok_a, line_a = tokens[i * per_point + 1]
            amp = number(tok_a, path, "amplitude", line_a)
            if amp != -1 and not 0 <= amp <= 1.01:
                raise fail(path, f"amplitude: {tok_a} is not -1 (none) or 0..1", line_a)
            level = None if amp < 0 else min(amp, 1.0)
        points.append(Point(pos, level))
    folded, warnings = fold_points(points, period, path, wrap=True)
    outside = sum(1 for p in points if p.beat < 0 or p.beat > beats + 1e-6)
    if outside:
        warnings.append(f"{outside} position(s) outside 0..{beats} beats folded into the groove")
    use = grid or choose_grid(folded, period, path)
    fields, more = points_to_template(folded, period, use, path)
    check_template(fields, path)
    warnings += more
    merged = len(points) - len(folded)
    header = [
        f"Imported from {path} by `groove import`.",
        f"Format: REAPER SWS groove (.rgt version {version}).",
        f"Settings: {beats} beats, {count} position(s)"
        + (f", {merged} duplicate(s) merged" if merged else "")
        + f"; grid {use} ({'asked' if grid else 'the coarsest with one point per step'})"
        + ("; amplitudes as accents relative to the loudest point" if version == 1 else "")
        + ".",
    ] + repeat_note(fields, beats)
    return [Imported(preset_name(stem(path)), fields, header, warnings)]


def document(beats: int, positions, levels) -> bytes:
    """Version 1 .rgt text: ``position amplitude`` per point (-1: no velocity)."""
    lines = [
        "Version: 1",
        f"Number of beats in groove: {beats}",
        f"Groove: {len(positions)} positions",
    ]
    lines += [f"{p!r} {(-1 if a is None else a)!r}" for p, a in zip(positions, levels)]
    return ("\n".join(lines) + "\n").encode("ascii")
