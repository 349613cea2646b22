"""Which SoundFont to play: ``--soundfont``, then ``GROOVE_SOUNDFONT``, then the system's.

The system's usual places are searched in order, and in each the General
MIDI fonts Debian, Fedora, Arch and Homebrew install, by name, before any
other .sf2/.sf3 there.  A missing or unreadable file is a ``SoundFontError``
(one line: the file, what is wrong, what to install or pass).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV = "GROOVE_SOUNDFONT"

#: Searched in this order after --soundfont and GROOVE_SOUNDFONT.
SYSTEM_DIRS = (
    "/usr/share/sounds/sf2",
    "/usr/share/soundfonts",
    "/usr/share/sounds/sf3",
    "/usr/local/share/soundfonts",
    "/usr/local/share/sounds/sf2",
    "/opt/homebrew/share/soundfonts",
    "~/.local/share/soundfonts",
)

#: Preferred names in each folder: the system default, then the fuller GM fonts first.
PREFERRED = (
    "default-GM.sf2",
    "default-GM.sf3",
    "FluidR3_GM.sf2",
    "FluidR3_GM.sf3",
    "GeneralUser GS v1.471.sf2",
    "TimGM6mb.sf2",
    "default.sf2",
)

INSTALL = (
    "install a General MIDI SoundFont (sh scripts/install-system.sh, or apt-get install "
    f"timgm6mb-soundfont / fluid-soundfont-gm), set {ENV}, or pass --soundfont FILE.sf2"
)


class SoundFontError(ValueError):
    """No usable SoundFont: one line, exit 2."""


@dataclass(frozen=True)
class Found:
    """A SoundFont and how it was chosen (``"--soundfont"``, ``ENV`` or ``"system"``)."""

    path: Path
    source: str


def check(path, where: str) -> Path:
    """``path`` if it is a readable RIFF sfbk file, else SoundFontError naming ``where``."""
    p = Path(path).expanduser()
    try:
        with open(p, "rb") as f:
            head = f.read(12)
    except FileNotFoundError:
        raise SoundFontError(f"{where}: {p}: no such file; {INSTALL}") from None
    except IsADirectoryError:
        raise SoundFontError(f"{where}: {p} is a folder; give an .sf2/.sf3 file") from None
    except OSError as exc:
        raise SoundFontError(f"{where}: {p}: cannot read it ({exc.strerror})") from None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise SoundFontError(
            f"{where}: {p} is not a SoundFont (no RIFF sfbk header); give an .sf2/.sf3 file"
        )
    return p


def _in_folder(folder: Path):
    for name in PREFERRED:
        if (folder / name).is_file():
            return folder / name
    found = sorted(p for p in folder.glob("*.sf[23]") if p.is_file())
    return found[0] if found else None


def system_soundfont(dirs=None):
    """The first SoundFont in the system's usual places (``SYSTEM_DIRS``), or None."""
    for d in SYSTEM_DIRS if dirs is None else dirs:
        folder = Path(d).expanduser()
        if folder.is_dir():
            hit = _in_folder(folder)
            if hit is not None:
                return hit.resolve()
    return None


def find_soundfont(explicit=None, env=None, dirs=None) -> Found:
    """The SoundFont to use.

    Parameters
    ----------
    explicit : path, optional
        ``--soundfont``: used when given, and an error when unusable.
    env : mapping, optional
        The environment (default ``os.environ``) for ``GROOVE_SOUNDFONT``.
    dirs : sequence of str, optional
        The system folders searched last (default ``SYSTEM_DIRS``).

    Raises
    ------
    SoundFontError
        The chosen file is missing or no SoundFont file, or none was found.
    """
    env = os.environ if env is None else env
    dirs = SYSTEM_DIRS if dirs is None else dirs
    if explicit:
        return Found(check(explicit, "--soundfont"), "--soundfont")
    if env.get(ENV):
        return Found(check(env[ENV], ENV), ENV)
    hit = system_soundfont(dirs)
    if hit is None:
        raise SoundFontError(f"no SoundFont found (looked in {', '.join(dirs)}); {INSTALL}")
    return Found(check(hit, "system SoundFont"), "system")
