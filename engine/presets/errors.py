"""The preset error class and the collector that positions its messages.

Every problem with a preset is reported as one line ``FILE:LINE:COL: message``
(lines and columns counted from 1) so that editors and terminals can jump to
it.  A file may have several problems; :class:`PresetError` carries them all
and prints the first.
"""

from __future__ import annotations

from groove import GrooveError


class PresetError(GrooveError):
    """A preset file (or text) is not a valid groove.

    ``str(error)`` is the first problem, already formatted as
    ``FILE:LINE:COL: message``; ``problems`` holds every problem found, in
    file order, for tools (``groove presets validate``) that print them all.

    Attributes
    ----------
    problems : tuple of str
        Every problem, one formatted line each.
    """

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = tuple(problems)
        super().__init__(self.problems[0])


def position(source: str, line: int, col: int, message: str) -> str:
    """``SOURCE:LINE:COL: message`` on one line (newlines in ``message`` folded)."""
    flat = " ".join(str(message).split())
    return f"{source}:{line}:{col}: {flat}"


class Problems:
    """Collects positioned problems of one source, to raise them together.

    Parameters
    ----------
    source : str
        The file name (or ``"<string>"``) every message starts with.
    """

    def __init__(self, source: str):
        self.source = source
        self.lines: list[tuple[int, int, str]] = []

    def add(self, at, message: str) -> None:
        """Record ``message`` at ``at``: a node (``.line``/``.col``) or a (line, col) pair."""
        line, col = (at.line, at.col) if hasattr(at, "line") else at
        self.lines.append((line, col, message))

    def error(self, at, message: str) -> PresetError:
        """A PresetError for one problem at ``at`` (for raising right away)."""
        line, col = (at.line, at.col) if hasattr(at, "line") else at
        return PresetError(position(self.source, line, col, message))

    def raise_if_any(self) -> None:
        """Raise every recorded problem, sorted by position, as one PresetError."""
        if self.lines:
            ordered = sorted(self.lines, key=lambda p: (p[0], p[1]))
            raise PresetError([position(self.source, *p) for p in ordered])

    def __bool__(self):
        return bool(self.lines)
