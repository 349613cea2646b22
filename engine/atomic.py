"""Atomic file writes: a crash or Ctrl-C never leaves a half-written output.

Everything the tools write (MIDI files, presets, plots, WAV files) goes
through ``write_bytes``: the data goes to a temporary file in the target's
own folder, is flushed to disk, gets the permissions a new file would have,
and replaces the target in one ``os.replace``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def save_figure(fig, path) -> Path:
    """Save a matplotlib figure atomically, in the format the suffix names (png by default)."""
    import io

    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix[1:].lower() or "png")
    return write_bytes(path, buf.getvalue())
