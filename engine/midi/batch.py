"""Many files at once: expanding inputs, mirroring the layout, worker processes.

``plan`` turns the command line's inputs (files, directories searched
recursively for *.mid / *.midi, glob patterns) into (input, output) pairs;
``run`` renders them, in ``-j`` worker processes that each warm the groove
kernels once, with a progress bar on stderr (only on a terminal).  A file
that fails is reported with its reason and skipped; the rest go on.
"""

from __future__ import annotations

import glob
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MIDI_SUFFIXES = (".mid", ".midi")
_GLOB_CHARS = set("*?[")


class PlanError(ValueError):
    """Inputs or output that do not fit together (exit code 2)."""


@dataclass
class Plan:
    """What to render: pairs of paths, and whether this is a batch."""

    jobs: list
    batch: bool
    out_dir: Path | None = None


def _expand(spec: str):
    """(path, path relative to the output folder) for one command-line input."""
    p = Path(spec)
    if p.is_dir():
        found = sorted(f for f in p.rglob("*") if f.suffix.lower() in MIDI_SUFFIXES and f.is_file())
        return [(f, f.relative_to(p)) for f in found], True
    if not p.exists() and _GLOB_CHARS & set(spec):
        parts = Path(spec).parts
        static = [x for x in parts[: next(i for i, x in enumerate(parts) if _GLOB_CHARS & set(x))]]
        base = Path(*static) if static else Path(".")
        found = sorted(Path(f) for f in glob.glob(spec, recursive=True) if Path(f).is_file())
        return [(f, f.relative_to(base)) for f in found], True
    if not p.exists():
        raise PlanError(f"INPUT: {spec}: no such file or directory")
    return [(p, Path(p.name))], False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def plan(inputs, output=None, in_place=False) -> Plan:
    """Pair every input with its output path.

    One plain input file renders to ``output`` (a file, or a file of the same
    name inside an existing folder).  Several inputs, a folder or a glob make
    a batch: ``output`` is then a folder and the inputs' layout is mirrored
    in it.  Writing over an input needs ``in_place``; with ``in_place`` and
    no ``output`` every input is overwritten.
    """
    pairs, batch = [], len(inputs) > 1
    for spec in inputs:
        found, many = _expand(spec)
        if many and not found:
            raise PlanError(f"INPUT: {spec}: no .mid or .midi files there")
        pairs += found
        batch = batch or many
    if output is None and not in_place:
        raise PlanError("-o OUTPUT is required (or --in-place to overwrite the inputs)")
    out = None if output is None else Path(output)
    if not batch:
        src = pairs[0][0]
        dst = src if out is None else (out / src.name if out.is_dir() else out)
        jobs, out_dir = [(src, dst)], None
    else:
        if out is not None and out.exists() and not out.is_dir():
            raise PlanError(f"-o: {out} is a file; with several inputs -o must be a folder")
        jobs = [(src, src if out is None else out / rel) for src, rel in pairs]
        out_dir = out
    seen = {}
    for src, dst in jobs:
        key = os.path.abspath(dst)
        if key in seen:
            raise PlanError(
                f"-o: {seen[key]} and {src} would both be written to {dst}; "
                "render them into different folders"
            )
        seen[key] = src
        if not in_place and (os.path.abspath(src) == key or _same_file(src, dst)):
            raise PlanError(f"-o: {dst} is the input itself; pass --in-place to overwrite it")
    return Plan(jobs, batch, out_dir)


@dataclass
class Summary:
    """Totals of a batch."""

    files: int = 0
    done: int = 0
    notes: int = 0
    orphan_offs_dropped: int = 0
    unended_closed: int = 0
    seconds: float = 0.0
    failures: list = field(default_factory=list)

    def add(self, stats):
        self.done += 1
        self.notes += stats.notes
        self.orphan_offs_dropped += stats.orphan_offs_dropped
        self.unended_closed += stats.unended_closed


_WORKER = {}
#: A sequential batch of at least this many files runs compiled kernels: loading
#: them (about 1 s) costs what plain Python loses on some 60 GMD-sized files
#: (about 20 ms a file against 5 ms compiled).
COMPILE_FROM_FILES = 64


def _init_worker(preset, options):
    import groove

    groove.warmup()
    _WORKER["preset"], _WORKER["options"] = preset, options


def _render_chunk(pairs):
    """Render several files in a worker (fewer round trips than one task per file)."""
    return [_render_one(src, dst) for src, dst in pairs]


def _render_one(src, dst, preset=None, options=None):
    """Render one file; returns (src, stats or None, reason or None)."""
    from groove import GrooveError

    from .midifile import MidiFileError
    from .render import render_file

    preset = _WORKER["preset"] if preset is None else preset
    options = _WORKER["options"] if options is None else options
    try:
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        return src, render_file(src, dst, preset, **options), None
    except MidiFileError as exc:
        return src, None, exc.reason
    except (GrooveError, ValueError, OSError) as exc:
        return src, None, str(exc)
    except Exception as exc:  # one broken file must not stop the batch
        return src, None, f"{type(exc).__name__}: {exc}"


def run(jobs, preset, options, workers=1, progress=None, report=None) -> Summary:
    """Render every (src, dst) job; failures are collected, never raised.

    Parameters
    ----------
    workers : int
        1 renders in this process; more start that many worker processes.
    progress : bool, optional
        Show a tqdm bar on stderr; default: only when stderr is a terminal.
    report : callable, optional
        Called with one line per failed file as it happens.
    """
    from tqdm import tqdm

    summary = Summary(files=len(jobs))
    show = sys.stderr.isatty() if progress is None else progress
    started = time.perf_counter()
    with tqdm(
        total=len(jobs), unit="file", file=sys.stderr, disable=not show, dynamic_ncols=True
    ) as bar:

        def collect(src, stats, reason):
            if reason is None:
                summary.add(stats)
            else:
                summary.failures.append((str(src), reason))
                line = f"{src}: {reason}"
                if report is None:
                    bar.write(line, file=sys.stderr)
                else:
                    report(line)
            bar.update(1)

        if workers <= 1 or len(jobs) <= 1:
            if len(jobs) >= COMPILE_FROM_FILES:
                import groove

                groove.warmup()  # many files pay the compiler back (see groove._numba)
            for src, dst in jobs:
                collect(*_render_one(src, dst, preset, options))
        else:
            _run_pool(jobs, preset, options, workers, collect)
    summary.seconds = time.perf_counter() - started
    return summary


def _run_pool(jobs, preset, options, workers, collect):
    # imported here: multiprocessing costs a one-file render a tenth of its start-up
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import groove

    # Loaded here, the kernels are inherited by forked workers instead of being
    # loaded again in each (their initializer's warmup is then instant).
    groove.warmup()
    size = max(1, min(16, len(jobs) // (workers * 8)))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(preset, options)
    ) as pool:
        futures = {pool.submit(_render_chunk, chunk): chunk for chunk in chunks}
        for fut in as_completed(futures):
            try:
                results = fut.result()
            except Exception as exc:  # a worker died (e.g. out of memory)
                results = [
                    (src, None, f"worker failed: {type(exc).__name__}") for src, _ in futures[fut]
                ]
            for result in results:
                collect(*result)
