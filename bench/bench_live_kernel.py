"""Per-block cost of the compiled live kernel against the Python path (BlockCore + Engine).

Both run the same rack (quantize 1/16 at 0.5, then swing16-58) on the same
input (a note-on or note-off about every 4 blocks, a CC every 16), in
64-frame blocks, side by side in one process; prints JSON with the median
and p99 microseconds per block and the ratio of medians.  Also the time of
``LiveKernel.build`` + ``prepare`` with a warm numba cache.

    .venv/bin/python bench/bench_live_kernel.py [--blocks N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.host.engine import Engine
from engine.host.live_kernel import LiveKernel, process_block
from engine.host.processor import Rack
from engine.host.processors import GrooveProcessor, QuantizeProcessor
from engine.live.backends.core import BlockCore
from engine.presets import load

SR, BLOCK = 48000, 64


def rack():
    return Rack([QuantizeProcessor("1/16", 0.5), GrooveProcessor(load("swing16-58"))])


def inputs(n_blocks):
    rng = np.random.default_rng(0)
    per_block = []
    on = False
    for k in range(n_blocks):
        rows = []
        if k == 0:
            rows.append((0, 0xFA, 0, 0))
        if k % 4 == 1:
            rows.append((int(rng.integers(0, BLOCK)), 0x80 if on else 0x90, 60, 0 if on else 100))
            on = not on
        if k % 16 == 3:
            rows.append((int(rng.integers(0, BLOCK)), 0xB0, 7, int(rng.integers(0, 128))))
        per_block.append(sorted(rows))
    return per_block


def bench_kernel(per_block):
    t0 = time.perf_counter()
    kern = LiveKernel.build(rack(), sample_rate=SR, max_block=BLOCK)
    kern.prepare()
    ready = time.perf_counter() - t0
    out = np.zeros((4096, 4), np.int32)
    empty = np.zeros(0, np.float32)
    arrays = [np.array(r, np.int32).reshape(-1, 4) for r in per_block]
    took = np.empty(len(arrays))
    for k, ev in enumerate(arrays):
        t = time.perf_counter()
        process_block(
            kern.istate, kern.fstate, ev, ev.shape[0], out, BLOCK, k * BLOCK, empty, empty
        )
        took[k] = time.perf_counter() - t
    return took, ready


def bench_python(per_block):
    eng = Engine(rack())
    eng.prepare(SR, BLOCK)
    core = BlockCore(eng, SR)
    msgs = [[(f, bytes((s, a, b)[: 1 if s >= 0xF0 else 3])) for f, s, a, b in r] for r in per_block]
    took = np.empty(len(msgs))
    for k, m in enumerate(msgs):
        t = time.perf_counter()
        core.run_block(BLOCK, k * BLOCK, m)
        took[k] = time.perf_counter() - t
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=20000)
    args = ap.parse_args()
    per_block = inputs(args.blocks)
    k, ready = bench_kernel(per_block)
    p = bench_python(per_block)
    skip = min(100, len(k) // 10)
    k, p = k[skip:] * 1e6, p[skip:] * 1e6
    period_us = BLOCK / SR * 1e6
    print(
        json.dumps(
            dict(
                block_frames=BLOCK,
                period_us=period_us,
                kernel_us=dict(p50=np.median(k), p99=np.percentile(k, 99), max=k.max()),
                python_us=dict(p50=np.median(p), p99=np.percentile(p, 99), max=p.max()),
                ratio_p50_python_over_kernel=float(np.median(p) / np.median(k)),
                kernel_p99_pct_of_period=float(100 * np.percentile(k, 99) / period_us),
                kernel_build_prepare_sec_warm_cache=ready,
            ),
            default=float,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
