"""Hot reload: a preset edited during playback changes the groove at a block
boundary; a broken edit keeps the old groove and prints file:line."""

import itertools
import os
import re

import numpy as np
import pytest

from tests.groove.reference import ref_swing

from .jack_harness import START, JackHarness, LiveProcess, expected_events

pytestmark = pytest.mark.live
_names = itertools.count()


def write_atomic(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def swing_yaml(amount):
    return f"name: live-edit\nkind: swing\namount: {amount}\ngrid: 1/16\n"


@pytest.fixture
def harness(jack_server):
    h = JackHarness(f"hr{next(_names)}")
    yield h
    h.close()


def which_groove(received_ons, sent_ons, f_start, fpb, refs):
    """For each sent note-on (in order): the set of grooves whose frame it came out at."""
    out_frames = [f for f, _ in received_ons]
    labels = []
    for (f, b), got in zip(sent_ons, out_frames):
        ok = set()
        for name, ref in refs.items():
            exp = expected_events([(f, b)], f_start, fpb, ref.forward, 0.0)[0][0]
            if -1.0 - 1e-6 <= got - exp <= 1e-6:
                ok.add(name)
        labels.append(ok)
    return labels


def test_edit_swaps_the_groove_at_a_block_boundary_and_a_broken_edit_keeps_it(harness, tmp_path):
    path = tmp_path / "live-edit.yaml"
    write_atomic(path, swing_yaml(54))
    name = f"gr{next(_names)}"
    p = LiveProcess("--name", name, "-p", path)
    try:
        p.wait_ready()
        harness.connect(f"{name}:midi_in", f"{name}:midi_out")
        sr, block = harness.sample_rate, harness.block_frames
        fpb = sr / 2.0
        # An off-beat 16th (the only place swing moves) every 37 ms, for 6 s.
        rel = np.arange(0, int(6 * sr), int(0.037 * sr))
        notes = []
        for k, f in enumerate(rel):
            notes.append((1000 + int(f), bytes((0x90, 40 + k % 40, 100))))
            notes.append((1000 + int(f) + 800, bytes((0x80, 40 + k % 40, 0))))
        base = harness.play([(1000, bytes((START,)))] + notes)
        harness.wait_frames(int(1.5 * sr))
        write_atomic(path, swing_yaml(70))
        n = len(p.lines)
        p.wait_for("reloaded", 10)
        harness.wait_frames(int(1.0 * sr))
        write_atomic(path, swing_yaml(70) + "amount: [\n")
        line = p.wait_for("keeping the previous groove", 10, start=n)
        assert re.search(re.escape(str(path)) + r":\d+:\d+: ", line), line
        assert harness.wait_sent()
        harness.wait_frames(int(0.2 * sr))
    finally:
        p.terminate()
    sent_ons = [(base + f, b) for f, b in notes if b[0] == 0x90]
    got_ons = [(f, b) for f, b in harness.received if b[0] == 0x90]
    assert len(got_ons) == len(sent_ons)
    labels = which_groove(
        got_ons,
        sent_ons,
        base + 1000,
        fpb,
        {"old": ref_swing(54, "1/16"), "new": ref_swing(70, "1/16")},
    )
    assert all(labels), "every note follows one of the two grooves"
    first_new = next(i for i, s in enumerate(labels) if s == {"new"})
    assert all("old" in s for s in labels[:first_new])
    assert all("new" in s for s in labels[first_new:]), "the broken edit changed nothing"
    # The switch is at a block boundary: no block has notes of both grooves.
    old_blocks = {f // block for (f, _), s in zip(sent_ons, labels) if s == {"old"}}
    new_blocks = {f // block for (f, _), s in zip(sent_ons, labels) if s == {"new"}}
    assert not old_blocks & new_blocks
    assert first_new > 10 and len(labels) - first_new > 10
