"""``groove import`` and ``groove export``: grooves from DAW files to presets and back.

Import reads Ableton Live .agr, REAPER/SWS .rgt and Tracktion groove
template .xml files (``engine.presets.daw``) and writes one preset per
groove, with a header comment naming the source.  It never builds a curve,
so it does not load numba.  Export loads any preset (or DAW file) and writes
it in a DAW's format.  Exit codes: 0 done; 2 bad arguments or a bad input
file (a batch converts the good files and names every bad one).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_YAML = (".yaml", ".yml")


def add_parser(sub):
    imp = sub.add_parser(
        "import",
        help="convert DAW grooves (.agr, .rgt, Tracktion .xml) to presets",
        description="Convert Ableton Live grooves (.agr), REAPER/SWS grooves (.rgt) and "
        "Tracktion/Waveform groove templates (.xml) to groove presets (template YAML). "
        "A DAW file also works directly wherever a preset is accepted.",
    )
    imp.add_argument("files", nargs="+", metavar="FILE", help=".agr, .rgt or Tracktion .xml")
    imp.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="preset file (NAME.yaml, one groove) or directory (default: the current one)",
    )
    imp.add_argument(
        "--grid",
        help="grid to lay the groove on (default: the .agr's base grid; for .rgt the "
        "coarsest of 1/4 .. 1/32t with one point per step)",
    )
    imp.add_argument("--name", help="preset name (one groove only; default from the file)")
    imp.set_defaults(func=run_import)

    exp = sub.add_parser(
        "export",
        help="write a preset as a DAW groove (.agr, .rgt, Tracktion .xml)",
        description="Write any preset (swing, template, blend, extracted; lanes are folded "
        "into the main curve) as an Ableton Live .agr, an SWS .rgt or a Tracktion groove "
        "template. `groove import` reads it back to the same curve.",
    )
    exp.add_argument("preset", metavar="PRESET", help="preset name or path (a DAW file works too)")
    exp.add_argument("--to", required=True, choices=("agr", "rgt", "tracktion"))
    exp.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    exp.add_argument(
        "--approximate",
        action="store_true",
        help="write the nearest the format holds even when it is more than 0.002 beats "
        "(1 ms at 120 bpm) off; the warning gives the largest error",
    )
    exp.set_defaults(func=run_export)


def _targets(args):
    """``(directory, file or None)`` the presets go to."""
    from engine.cli import UsageError

    if args.output is None:
        return Path.cwd(), None
    out = Path(args.output)
    if out.is_dir():
        return out, None
    if out.suffix.lower() in _YAML:
        if not out.parent.is_dir() and str(out.parent):
            raise UsageError(f"-o {out}: the folder {out.parent} does not exist")
        if args.name and args.name != out.stem:
            raise UsageError(
                f"--name {args.name} differs from the file name {out.name}; a preset's "
                "name is its file name: give one of them"
            )
        return out.parent, out
    raise UsageError(f"-o {out}: no such directory (a preset file ends in .yaml)")


def run_import(args) -> int:
    from engine.cli import UsageError
    from engine.presets import PresetError
    from engine.presets.daw import preset_text, read
    from engine.presets.schema import NAME_PATTERN

    if args.name is not None and len(args.files) > 1:
        raise UsageError("--name names one groove; it cannot be used with several files")
    if args.name is not None and not re.match(NAME_PATTERN, args.name):
        raise UsageError(
            f"--name {args.name!r} is not a preset name; use letters, digits and - _ . +"
        )
    folder, single = _targets(args)
    results, bad = [], 0
    for file in args.files:
        try:
            if not Path(file).is_file():
                raise PresetError(f"{file}: no such file")
            results.append((file, read(file, args.grid)))
        except PresetError as exc:
            print(f"groove import: {exc}", file=sys.stderr)
            bad += 1
    total = sum(len(items) for _, items in results)
    if single is not None and total > 1:
        raise UsageError(
            f"-o {single} takes one groove but {total} were read; give a directory instead"
        )
    if args.name is not None and total > 1:
        raise UsageError(f"--name names one groove but {args.files[0]} holds {total}")
    taken: dict = {}
    for file, items in results:
        planned = []
        try:
            for item in items:
                name = single.stem if single is not None else (args.name or item.name)
                target = single if single is not None else folder / f"{name}.yaml"
                key = target.resolve()
                if key in taken:
                    raise PresetError(
                        f"{file}: its groove {name!r} would overwrite {target}, written "
                        f"from {taken[key]} in this run; convert it with --name or -o"
                    )
                planned.append((item, target, preset_text(item, name, source=file, target=target)))
        except PresetError as exc:
            print(f"groove import: {exc}", file=sys.stderr)
            bad += 1
            continue
        for item, target, text in planned:
            replaced = target.exists()
            try:
                _write(target, text.encode("utf-8"))
            except OSError as exc:
                print(f"groove import: {exc}", file=sys.stderr)
                bad += 1
                continue
            taken[target.resolve()] = file
            for warning in item.warnings:
                print(f"groove import: {file}: warning: {warning}", file=sys.stderr)
            f = item.fields
            print(
                f"{target}: {'replaced: ' if replaced else ''}{f['grid']}, period "
                f"{f['period']} beats, {len(f['offsets'])} steps (from {file})"
            )
    return 2 if bad else 0


def _write(target: Path, data: bytes) -> None:
    """Write atomically; an error names the target, not the temporary file beside it."""
    from engine.atomic import write_bytes

    try:
        write_bytes(target, data)
    except OSError as exc:
        raise OSError(f"{target}: cannot write: {exc.strerror or exc}") from None


def run_export(args) -> int:
    from engine.presets import load
    from engine.presets.daw.common import fmt as num
    from engine.presets.daw.export import SUFFIX, export

    preset = load(args.preset)
    out = Path(args.output)
    if not out.parent.is_dir() and str(out.parent):
        from engine.cli import UsageError

        raise UsageError(f"-o {out}: the folder {out.parent} does not exist")
    result = export(preset, args.to, approximate=args.approximate)
    for warning in result.warnings:
        print(f"groove export: warning: {warning}", file=sys.stderr)
    if out.suffix.lower() != SUFFIX[args.to]:
        print(
            f"groove export: warning: {out.name} does not end in {SUFFIX[args.to]}, "
            f"which {args.to} files use",
            file=sys.stderr,
        )
    _write(out, result.data)
    exact = (
        "exact"
        if result.max_error_beat <= 1e-9
        else f"largest error {num(result.max_error_beat)} beats"
    )
    print(f"{out}: {args.to}, grid {result.grid}, {num(result.period_beat)} beats, {exact}")
    return 0
