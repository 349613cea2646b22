"""Nothing compiles after ``Engine.prepare``: every kernel of ``groove._numba``'s registry.

The live path's rule is that no numba compilation happens on the audio
thread.  ``Engine.prepare`` calls ``groove.warmup`` and runs one silent
block; afterwards no kernel of the registry (every ``@kernel`` of every
module imported, not just the ones a test happens to name) may gain a
compiled signature, whatever the block sizes, seeks and grooves.  Runs in a
fresh process so that kernels compiled by other tests cannot hide a gap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
import numpy as np
import groove
from groove import _numba
import engine.host.engine, engine.host.processors, engine.host.scheduler  # the live path
import engine.live.backends.core
from engine.host.engine import Engine
from engine.host.events import NOTE_OFF, NOTE_ON, EventList
from engine.host.processor import Rack
from engine.host.processors import GrooveProcessor, HumanizeProcessor, QuantizeProcessor
from engine.host.scheduler import Timeline

def timeline(n_beats, seed):
    rng = np.random.default_rng(seed)
    starts = np.arange(n_beats * 4) * 0.25
    return Timeline.from_arrays(
        src_beat=starts,
        end_beat=starts + rng.uniform(0.05, 0.6, size=starts.size),
        kind=np.full(starts.size, NOTE_ON),
        key=rng.choice([36, 38, 42], size=starts.size),
        channel=np.full(starts.size, 9),
        value=rng.integers(40, 127, starts.size),
    )

GROOVES = {
    "swing": groove.swing(58),
    "template": groove.template([0, 0.2, -0.3, 0.1, 0, 0.25, -0.2, 0.15], grid="1/8",
                                interp="pchip"),
    "blend": groove.blend([(groove.swing(66), 0.5),
                           (groove.template([0, 0.1, -0.05, 0.14] * 4, interp="pchip"), 0.5)]),
}

def signatures():
    return {
        f"{k.__module__}.{k.__qualname__}": (
            None if k._dispatcher is None else sorted(map(str, k._dispatcher.signatures))
        )
        for k in _numba._registry
    }

rack = [GrooveProcessor(GROOVES[sys.argv[1]])]
if sys.argv[2] == "full":  # a live rack: quantize and humanize (timing and velocity) first
    rack = [QuantizeProcessor("1/16", 0.5), HumanizeProcessor(8.0, 12.0, seed=5)] + rack
eng = Engine(Rack(rack), None if sys.argv[3] == "live" else timeline(8, 1))
eng.prepare(48000, 256)
eng.transport.play()
before = signatures()
live = EventList(64)

def block(n, i):
    live.clear()
    if n and sys.argv[3] == "live":  # notes played in: a note-on, the last one's note-off
        live.push(i % n, NOTE_ON, 9, 36 + i % 7, 100)
        live.push(0, NOTE_OFF, 9, 36 + (i - 1) % 7, 0)
    eng.process(n, live)

for i, n in enumerate([64, 256, 7, 1, 0, 255] * 60):
    block(n, i)
eng.transport.seek(1.5)
for i in range(20):
    block(256, i)
after = signatures()
print(json.dumps({"before": before, "after": after, "errors": eng.stats["errors"],
                  "out": eng.stats["events_out"], "error": repr(eng.last_error)}))
"""


CASES = [
    ("swing", "groove", "timeline"),
    ("template", "full", "timeline"),
    ("blend", "full", "timeline"),
    ("blend", "full", "live"),
]


@pytest.mark.parametrize("case", CASES, ids="-".join)
@pytest.mark.parametrize("mode", ["auto", "always"])
def test_no_kernel_of_the_registry_compiles_after_prepare(case, mode):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *case],
        cwd=REPO,
        env={**os.environ, "GROOVE_JIT": mode},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    before, after = result["before"], result["after"]
    assert len(before) >= 15
    assert result["errors"] == 0 and result["out"] > 0, result["error"]
    not_warmed = sorted(name for name, sigs in before.items() if sigs is None)
    assert not not_warmed, f"groove.warmup left these kernels uncompiled: {not_warmed}"
    compiled_late = sorted(name for name in after if after[name] != before.get(name))
    assert not compiled_late, f"compiled after prepare: {compiled_late}"
