"""Where presets live and how a name becomes a file.

Lookup order: an explicit path; each directory of ``GROOVE_PRESET_PATH``
(``os.pathsep``-separated); the user's presets directory
(``platformdirs.user_config_dir("groove")/presets``); the presets shipped
in the ``groove_presets`` package (found with importlib.resources, so it
works from an installed wheel).  The first match wins, so a user's
``swing16-58.yaml`` shadows the shipped one.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import platformdirs

from .errors import PresetError

SUFFIXES = (".yaml", ".yml")
#: DAW groove files (engine.presets.daw) are paths too: they are never looked up by name.
DAW_SUFFIXES = (".agr", ".rgt", ".xml")
ENV_VAR = "GROOVE_PRESET_PATH"


def shipped_dir() -> Path:
    """The directory of the shipped presets (the ``groove_presets`` package)."""
    return Path(str(importlib.resources.files("groove_presets")))


def user_dir() -> Path:
    """The user's own presets directory (it need not exist)."""
    return Path(platformdirs.user_config_dir("groove")) / "presets"


def search_dirs() -> list:
    """``(origin, directory)`` pairs in lookup order; origin names where it came from."""
    dirs = [
        (ENV_VAR, Path(p).expanduser())
        for p in os.environ.get(ENV_VAR, "").split(os.pathsep)
        if p.strip()
    ]
    dirs.append(("user", user_dir()))
    dirs.append(("shipped", shipped_dir()))
    return dirs


def looks_like_path(name: str) -> bool:
    """True for a path (has a separator, or ends in .yaml/.yml or a DAW suffix), not a name."""
    seps = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return any(s in name for s in seps) or name.lower().endswith(SUFFIXES + DAW_SUFFIXES)


def _in_dir(directory: Path, name: str):
    for suffix in SUFFIXES:
        candidate = directory / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def find(name, relative_to=None) -> Path:
    """The file of a preset name or path.

    Parameters
    ----------
    name : str or os.PathLike
        A preset name (``swing16-58``) or a path to a preset file.
    relative_to : path, optional
        Directory relative paths start from (a blend's own directory);
        default the current directory.

    Raises
    ------
    PresetError
        Nothing matches; the message lists where it looked and the closest name.
    """
    text = os.fspath(name)
    if isinstance(name, os.PathLike) or looks_like_path(text):
        path = Path(text).expanduser()
        if not path.is_absolute() and relative_to is not None:
            path = Path(relative_to) / path
        if path.is_file():
            return path
        bare = Path(text).name
        if any(s in text for s in ("/", os.sep)) or not bare.lower().endswith(SUFFIXES):
            raise PresetError(f"{text}: no such preset file ({path})")
        text = Path(bare).stem
    if not text or text.startswith("."):
        raise PresetError(f"{text!r}: not a preset name; use a name such as swing16-58")
    for _, directory in search_dirs():
        found = _in_dir(directory, text)
        if found is not None:
            return found
    import difflib

    close = difflib.get_close_matches(text, [n for n, _, _ in preset_files()], n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    where = ", ".join(str(d) for _, d in search_dirs())
    raise PresetError(
        f"{text}: no preset of that name; {hint}looked in {where} "
        "(`groove presets list` shows them all)"
    )


def preset_files() -> list:
    """``(name, path, origin)`` of every preset file found, first match per name.

    Sorted by name; a name found in several directories is listed once, from
    the directory that lookup would use.
    """
    seen = {}
    for origin, directory in search_dirs():
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            continue
        for path in entries:
            if path.suffix.lower() in SUFFIXES and path.is_file() and not path.name.startswith("."):
                seen.setdefault(path.stem, (path.stem, path, origin))
    return [seen[k] for k in sorted(seen)]
