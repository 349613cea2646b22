"""``groove demo``: show where a bar of 16ths lands under a few grooves."""

from __future__ import annotations

import numpy as np


def add_parser(sub):
    p = sub.add_parser("demo", help="show what a groove does to a bar of 16th notes")
    p.add_argument("--amount", type=float, default=58.0, help="swing amount in %% (default 58)")
    p.set_defaults(func=run)


def run(args) -> int:
    import groove

    sw = groove.swing(args.amount, grid="1/16")
    tp = groove.template(
        [0, 0.1, -0.05, 0.14, 0, 0.12, -0.02, 0.16, 0, 0.1, -0.04, 0.15, 0, 0.11, -0.03, 0.13],
        interp="pchip",
    )
    bl = groove.blend([(sw, 0.5), (tp, 0.5)])
    beats = np.arange(16) * 0.25
    print("a bar of 16ths (beats) and where each groove puts it:")
    print(f"{'straight':>10} " + " ".join(f"{b:5.3f}" for b in beats))
    for name, g in ((f"swing {args.amount:g}", sw), ("template", tp), ("blend", bl)):
        print(f"{name:>10} " + " ".join(f"{v:5.3f}" for v in g.forward(beats)))
    back = bl.inverse(bl.forward(beats))
    print(f"blend, forward then inverse: worst error {np.abs(back - beats).max():.1e} beats")
    return 0
