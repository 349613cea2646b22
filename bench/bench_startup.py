"""Benchmark: start-up of ``groove`` commands against the import floor, and a small render.

Prints JSON.  Every contender is a fresh process, wall clock from spawn to
exit; the contenders run interleaved (one of each per round, order rotated),
several rounds, and the median counts.  The machine is shared and noisy:
read the ratios, not the milliseconds.

  floor        python -c "import numpy, mido": what any Python tool on these libraries pays
  python       python -c pass; numpy: python -c "import numpy" (where the time goes)
  <command>    groove --help, presets list|show|validate|schema, ports, info [--json] FILE,
               export funk-16 --to agr, import of that .agr
  mido_copy    python -c "mido.MidiFile(IN).save(OUT)" on examples/drum-loop.mid
  render       groove render examples/drum-loop.mid -p swing16-58 -o OUT (small path)
  render_jit   the same with GROOVE_JIT=always (the compiled path, numba cache warm)

``ratios`` divides each command by ``floor`` and the renders by ``mido_copy``;
``targets`` gives the goals of issue 14 (commands <= 1.5x the floor, render
<= 2x mido_copy) and whether this run met them.

Usage: python bench/bench_startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOOP = ROOT / "examples" / "drum-loop.mid"
PY = sys.executable
MAIN = "import sys; from engine.cli import main; sys.exit(main())"  # the console script's body


def contenders(out_dir: Path) -> dict:
    """name -> (argv, extra environment)."""
    groove = [PY, "-c", MAIN]
    out = str(out_dir / "out.mid")
    agr = str(out_dir / "funk.agr")  # written by export, read by import
    return {
        "floor": ([PY, "-c", "import numpy, mido"], {}),
        "python": ([PY, "-c", "pass"], {}),
        "numpy": ([PY, "-c", "import numpy"], {}),
        "help": (groove + ["--help"], {}),
        "presets_list": (groove + ["presets", "list"], {}),
        "presets_show": (groove + ["presets", "show", "swing16-58"], {}),
        "presets_validate": (
            groove + ["presets", "validate", str(ROOT / "presets" / "funk-16.yaml")],
            {},
        ),
        "presets_schema": (groove + ["presets", "schema"], {}),
        "ports": (groove + ["ports"], {}),
        "info": (groove + ["info", str(LOOP)], {}),
        "info_json": (groove + ["info", "--json", str(LOOP)], {}),
        "export": (groove + ["export", "funk-16", "--to", "agr", "-o", agr], {}),
        "import": (groove + ["import", agr, "-o", str(out_dir / "funk-back.yaml")], {}),
        "mido_copy": (
            [PY, "-c", f"import mido; mido.MidiFile({str(LOOP)!r}).save({out!r})"],
            {},
        ),
        "render": (groove + ["render", str(LOOP), "-p", "swing16-58", "-o", out], {}),
        "render_jit": (
            groove + ["render", str(LOOP), "-p", "swing16-58", "-o", out],
            {"GROOVE_JIT": "always"},
        ),
    }


def run_once(argv, extra_env, check=False) -> float:
    env = dict(os.environ, **extra_env)
    # as installed: bytecode cached (the warm-up run writes it), not compiled every run
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    seconds = time.perf_counter() - t0
    if check and done.returncode != 0:  # a timing of a failing command means nothing
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-400:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        todo = contenders(Path(tmp))
        for argv, env in todo.values():  # warm the OS file cache and numba's cache
            run_once(argv, env, check=True)
        times = {name: [] for name in todo}
        names = list(todo)
        for r in range(args.rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                times[name].append(run_once(*todo[name]))
    median_ms = {k: round(statistics.median(v) * 1e3, 1) for k, v in times.items()}
    floor, copy = median_ms["floor"], median_ms["mido_copy"]
    reference = ("floor", "python", "numpy", "mido_copy", "render", "render_jit")
    commands = [k for k in names if k not in reference]
    ratios = {k: round(median_ms[k] / floor, 2) for k in commands}
    ratios.update({k: round(median_ms[k] / copy, 2) for k in ("render", "render_jit")})
    targets = {k: {"goal": 1.5, "met": ratios[k] <= 1.5} for k in commands}
    targets["render"] = {"goal": 2.0, "met": ratios["render"] <= 2.0}
    print(
        json.dumps(
            dict(
                rounds=args.rounds,
                median_ms=median_ms,
                ratios=ratios,
                ratio_of="commands: median / floor; render, render_jit: median / mido_copy",
                targets=targets,
                python=sys.version.split()[0],
            ),
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
