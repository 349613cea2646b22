"""The ``groove`` command line: a thin dispatcher over the engine's subcommands.

Threads: the main thread.  May import every ``engine`` package; nothing imports it.

Each subcommand lives in its own module with ``add_parser(subparsers)`` that
registers it and sets ``func``; ``main`` turns every expected error into one
line on stderr and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = [
    "demo",
    "render",
    "info",
    "live",
    "ports",
    "doctor",
    "presets",
    "convert",
    "plot",
    "extract",
    "analyze",
    "match",
]


class UsageError(Exception):
    """Bad arguments or input: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groove",
        description="Groove engine: apply, render, play live and learn musical grooves.",
    )
    from groove import __version__

    parser.add_argument("--version", action="version", version=f"groove {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"engine.cli.{name}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("groove: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (UsageError, ValueError, OSError) as exc:
        print(f"groove {args.command}: {exc}", file=sys.stderr)
        return 2
