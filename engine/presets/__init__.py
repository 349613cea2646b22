"""Groove presets: YAML files that name a groove, its lanes and default amounts.

The format (one groove per file, ``NAME.yaml``)::

    name: swing16-58
    description: MPC-style 16th swing, 58%
    kind: swing            # swing | template | blend | straight
    amount: 58
    grid: 1/16

``kind: template`` takes ``period``, ``grid``, ``offsets`` (one per grid
step, in steps), optional ``interp``, ``velocity`` and ``lanes``; ``kind:
blend`` takes ``of: [{groove: NAME-OR-PATH-OR-INLINE, weight: W}, ...]``.
Any preset may set ``timing``, ``quantize``, ``velocity_amount`` and
``random`` defaults.  ``groove presets schema`` prints the JSON Schema.

Every problem is a :class:`PresetError` whose message is
``FILE:LINE:COL: message``; nothing is half-loaded.

The package: ``model`` (the Preset value type), ``yaml_io`` (YAML with positions,
safe loading), ``check`` and ``schema`` (checking, the JSON Schema), ``build``,
``lookup`` (the lookup path), ``header`` (what a listing shows, read without
building grooves), ``write``, ``chart`` (terminal charts), ``plot``
(matplotlib), ``errors``.
Threads: the main thread, and the live watcher thread (``groove-watch``) for reloads.
May import: ``groove``, ``engine.atomic``; YAML and (in ``plot``) matplotlib.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import PresetError, position
from .lookup import DAW_SUFFIXES, find, preset_files, search_dirs, shipped_dir, user_dir

if TYPE_CHECKING:
    from .model import Preset

#: Names imported on first use (PEP 562): ``groove presets schema`` and
#: ``list`` need neither the checker, the builder nor the writer.
_LAZY = {
    "Preset": ".model",
    "json_schema": ".schema",
    "json_schema_text": ".schema",
    "preset_mapping": ".write",
    "write_preset": ".write",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "PresetError",
    "load",
    "loads",
    "load_text",
    "find",
    "list_presets",
    "list_headers",
    "write_preset",
    "read_document",
    "preset_mapping",
    "json_schema",
    "json_schema_text",
    "search_dirs",
    "shipped_dir",
    "user_dir",
    "validate",
]


class _Session:
    """One load: the chain of files being loaded, to follow blends and catch cycles."""

    def __init__(self):
        self.chain: list[Path] = []

    def load_file(self, path: Path) -> Preset:
        from .yaml_io import read_text

        if Path(path).suffix.lower() in DAW_SUFFIXES:
            from .daw import text_of  # a DAW groove reads as the preset `groove import` writes

            return self.load_text(text_of(path), str(path), path)
        return self.load_text(read_text(path), str(path), path)

    def load_text(self, text: str, source: str, path: Path | None) -> Preset:
        from .build import build_preset
        from .check import Checker
        from .yaml_io import parse

        key = Path(path).resolve() if path is not None else None
        if key is not None:
            self.chain.append(key)
        try:
            root = parse(text, source)
            checker = Checker(source)
            spec = checker.preset(root, stem=Path(path).stem if path is not None else None)
            checker.problems.raise_if_any()
            base = Path(path).parent if path is not None else Path.cwd()
            return build_preset(
                spec,
                checker.problems,
                lambda part: self.resolve(part, base, checker.problems),
                path,
            )
        finally:
            if key is not None:
                self.chain.pop()

    def resolve(self, part, base: Path, problems) -> Preset:
        """The Preset a blend part names (by name, or by path relative to ``base``)."""
        try:
            path = find(part.ref, relative_to=base)
        except PresetError as exc:
            raise problems.error(part.node, f"{part.path}: {exc}") from None
        key = path.resolve()
        if key in self.chain:
            cycle = self.chain[self.chain.index(key) :] + [key]
            raise problems.error(
                part.node,
                f"{part.path}: blend cycle "
                f"{' -> '.join(p.stem for p in cycle)}; a blend "
                "cannot contain itself",
            )
        try:
            return self.load_file(path)
        except PresetError as exc:
            raise problems.error(
                part.node, f"{part.path}: {part.ref!r} is not a valid preset: {exc}"
            ) from None


def load(name_or_path) -> Preset:
    """Load a preset by name (see :func:`find` for the lookup order) or path.

    Returns
    -------
    engine.presets.model.Preset
        The groove (unscaled), its lanes and default amounts.

    Raises
    ------
    PresetError
        The preset is missing or invalid; ``str(error)`` is ``FILE:LINE:COL: message``.
    """
    return _Session().load_file(find(name_or_path))


def loads(text: str, source: str = "<string>") -> Preset:
    """Load a preset from YAML text; ``source`` names it in messages.

    Relative paths of blend parts start from the current directory.
    """
    return _Session().load_text(text, source, None)


def load_text(text: str, source: str, path=None) -> Preset:
    """Load preset text as if it were the file ``path`` (its name and directory)."""
    return _Session().load_text(text, source, None if path is None else Path(path))


def read_document(path):
    """The YAML document of a preset file, for editing and ``write_preset``.

    Comments and key order are kept on writing; the document is checked as
    YAML only (safe, positioned errors), not as a groove.
    """
    from .yaml_io import load_document, read_text

    return load_document(read_text(path), str(path))


def list_presets() -> list:
    """Every preset that lookup can find: ``(name, path, Preset or PresetError)``.

    Sorted by name; a name in several directories is listed from the one
    lookup uses.  Invalid presets are listed with their error, not raised.
    """
    out = []
    for name, path, _origin in preset_files():
        try:
            out.append((name, path, _Session().load_file(path)))
        except PresetError as exc:
            out.append((name, path, exc))
    return out


def list_headers(files=None) -> list:
    """What ``groove presets list`` shows: ``(name, path, PresetHeader or PresetError)``.

    Like :func:`list_presets` (every file checked and built, so a broken
    one is listed with the error :func:`load` raises), but parsed by one
    pass of the safe YAML parser and with each blend part built once
    (``engine.presets.header``); a file that path cannot vouch for is
    loaded with :func:`load` itself.  ``files``: what ``lookup.preset_files()``
    returned, when the caller has it already.
    """
    from .header import HeaderReader, PresetHeader, read_header

    reader = HeaderReader()
    out = []
    for name, path, _origin in preset_files() if files is None else files:
        header = read_header(path, reader)
        if header is None:
            try:
                header = PresetHeader.of(_Session().load_file(path))
            except PresetError as exc:
                header = exc
        out.append((name, path, header))
    return out


def validate(paths) -> list:
    """Every problem of the given files, one ``FILE:LINE:COL: message`` line each."""
    problems = []
    for p in paths:
        path = Path(os.fspath(p))
        if not path.is_file():
            problems.append(
                position(str(path), 1, 1, "no such file" if not path.exists() else "not a file")
            )
            continue
        try:
            _Session().load_file(path)
        except PresetError as exc:
            problems.extend(exc.problems)
    return problems
