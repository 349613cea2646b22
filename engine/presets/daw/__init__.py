"""Grooves in and out of DAWs: Ableton Live .agr, REAPER/SWS .rgt, Tracktion XML.

Reading turns a DAW groove into the keys of a ``kind: template`` preset
(offsets per grid step in fractions of a step, velocity accents, amount
defaults) plus header-comment lines naming the source file, its format and
settings, and warnings for what changed; :func:`preset_text` makes that the
text of a normal preset file.  The preset loader (``engine.presets.load``)
reads DAW paths through the same functions, so a ``.agr``, ``.rgt`` or
Tracktion ``.xml`` works wherever a preset does.  Writing
(:mod:`engine.presets.daw.export`) samples any preset's curve on a grid
the format holds.

Modules: ``common`` (points to templates, capped reads, numbers), ``xmlsafe``
(defusedxml), ``agr``, ``rgt``, ``tracktion`` (one format each), ``export``.
Threads: the main thread only.
May import: ``groove`` (grids; ``export`` also evaluates curves),
``engine.presets`` (errors, schema, YAML writing), ``engine.atomic``,
defusedxml and ruamel.yaml.  Reading never builds a ``groove.Groove``, so
``groove import`` does not load numba.
"""

from __future__ import annotations

from pathlib import Path

from ..lookup import DAW_SUFFIXES
from .common import DawError, Imported, fail

__all__ = ["DAW_SUFFIXES", "DawError", "Imported", "is_daw_path", "read", "preset_text", "text_of"]

FORMAT_NAMES = {
    ".agr": "Ableton Live groove",
    ".rgt": "REAPER SWS groove",
    ".xml": "Tracktion groove template",
}


def is_daw_path(path) -> bool:
    """True when ``path`` ends in a DAW groove suffix (.agr, .rgt, .xml)."""
    return Path(str(path)).suffix.lower() in DAW_SUFFIXES


def read(path, grid: str | None = None) -> list:
    """Every groove of a DAW file, as :class:`Imported` (a Tracktion file may hold several).

    Parameters
    ----------
    path : path
        An ``.agr``, ``.rgt`` or Tracktion ``.xml`` file.
    grid : str, optional
        Grid to lay the points on instead of the file's own (``.agr``: its
        base grid; ``.rgt``: the coarsest that fits).

    Raises
    ------
    DawError
        One line ``FILE: what is wrong``.
    """
    from groove import GRIDS

    suffix = Path(str(path)).suffix.lower()
    if grid is not None and grid not in GRIDS:
        raise fail(path, f"--grid {grid!r} is not a grid; use one of {', '.join(GRIDS)}")
    if suffix == ".agr":
        from . import agr as reader
    elif suffix == ".rgt":
        from . import rgt as reader
    elif suffix == ".xml":
        from . import tracktion as reader
    else:
        raise fail(path, f"unknown groove file type {suffix!r}; use .agr, .rgt or a Tracktion .xml")
    return reader.read(path, grid)


def preset_text(item: Imported, name: str | None = None, source=None, target=None) -> str:
    """The YAML text of an imported groove: header comment, then the preset's keys.

    With ``name`` the preset is named (it must then be the file's stem); the
    text is checked as a preset (structure and amounts; the curve needs no
    check, its offsets were made monotone) before it is returned.  A problem
    is reported as ``SOURCE: TARGET: ...`` (the DAW file first, then the
    preset file it would have made), or against ``source`` alone.
    """
    from ..check import Checker
    from ..errors import PresetError
    from ..model import Amounts
    from ..write import _set_header, to_document
    from ..yaml_io import dumps, parse

    mapping = {} if name is None else {"name": name}
    mapping.update(item.fields)
    document = to_document(mapping)
    _set_header(document, "\n".join(item.header))
    text = dumps(document)
    where = str(target or source or "<imported>")
    try:
        checker = Checker(where)
        spec = checker.preset(parse(text, where), stem=name)
        checker.problems.raise_if_any()
        try:
            Amounts(**spec.amounts)
        except ValueError as exc:
            raise DawError(f"{where}: {exc}") from None
    except PresetError as exc:
        if target is None or source is None:
            raise
        raise DawError(f"{source}: {' '.join(str(exc).split())}") from None
    return text


def text_of(path) -> str:
    """Preset text of a DAW file holding one groove (for the preset loader)."""
    items = read(path)
    if len(items) > 1:
        names = ", ".join(i.name for i in items)
        raise fail(
            path,
            f"holds {len(items)} groove templates ({names}); `groove import {path} -o DIR` "
            "makes one preset of each",
        )
    return preset_text(items[0], source=path)
