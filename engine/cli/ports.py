"""``groove ports``: the audio devices and MIDI ports each live backend can use."""

from __future__ import annotations

from engine.live.backends import BACKENDS


def add_parser(sub):
    p = sub.add_parser("ports", help="list audio devices and MIDI ports for `groove live`")
    p.add_argument("--backend", choices=BACKENDS, help="only this backend (default: all)")
    p.set_defaults(func=run)


def run(args) -> int:
    from engine.live.backends import list_ports

    for name in [args.backend] if args.backend else BACKENDS:
        for line in list_ports(name):
            print(line)
    return 0
