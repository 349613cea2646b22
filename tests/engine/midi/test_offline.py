"""The engine driven by the offline clock renders exactly what the direct renderer does.

Same notes, same ticks, same bytes, for any block size: 1, 7, 64, 256, 4096
and randomly varying sizes, on real drum performances (GMD), the edge-case
corpus, and the project's own fixtures.
"""

from __future__ import annotations

import io
from pathlib import Path

import mido
import numpy as np
import pytest

import groove
from engine.midi import midifile
from engine.midi.midifile import MidiFileError
from engine.midi.offline import block_sizes, render_blocks
from engine.midi.render import render
from engine.presets.model import Amounts, Lane, Preset

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "data" / "midi"
SHARED = HERE.parents[2] / ".." / "shared" / "data"
GMD = SHARED / "gmd"
EDGE = SHARED / "midi-edge"
needs_gmd = pytest.mark.skipif(not GMD.is_dir(), reason=f"shared data absent: {GMD}")
needs_edge = pytest.mark.skipif(not EDGE.is_dir(), reason=f"shared data absent: {EDGE}")

LANES = Preset(
    "lanes",
    groove.blend(
        [(groove.swing(62), 0.5), (groove.template([0, 0.1, -0.05, 0.14] * 4, interp="pchip"), 0.5)]
    ),
    lanes=(
        Lane("snare", (38, 40), groove.template([0, 0.05, 0.2, 0.05] * 4, interp="pchip")),
        Lane("hats", (42, 44, 46), groove.swing(66)),
    ),
    amounts=Amounts(velocity=0.5),
)


def encoded(mid) -> bytes:
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def assert_same(mid, preset, sizes, sample_rate=48000, **options):
    direct = render(mid, preset, **options)
    blocks = render_blocks(mid, preset, sizes=sizes, sample_rate=sample_rate, **options)
    assert encoded(blocks) == encoded(direct)


def gmd_files(n):
    if not GMD.is_dir():
        return []
    files = sorted(GMD.rglob("*.mid"))
    return files[:: max(len(files) // n, 1)][:n]


def head(mid, beats):
    """The file cut after ``beats`` (so that 1-frame blocks stay quick)."""
    limit = beats * mid.ticks_per_beat
    out = mido.MidiFile(type=mid.type, ticks_per_beat=mid.ticks_per_beat)
    for trk in mid.tracks:
        new, now = mido.MidiTrack(), 0
        for msg in trk:
            now += msg.time
            if now > limit and not msg.is_meta:
                break
            new.append(msg)
        out.tracks.append(new)
    return out


@needs_gmd
@pytest.mark.parametrize("block", [64, 256, 4096, "random"])
@pytest.mark.parametrize("path", gmd_files(6), ids=lambda p: p.stem)
def test_gmd_block_render_equals_direct_render(path, block):
    mid = midifile.read(path)
    sizes = block_sizes(0, seed=7) if block == "random" else block_sizes(block)
    assert_same(mid, LANES, sizes)


@needs_gmd
@pytest.mark.parametrize("block", [1, 7])
def test_tiny_blocks_equal_direct_render(block):
    # a low sample rate keeps the number of 1-frame blocks small; the result
    # does not depend on it
    mid = head(midifile.read(gmd_files(1)[0]), 16)
    assert_same(mid, LANES, block_sizes(block), sample_rate=4000)


@needs_gmd
@pytest.mark.parametrize(
    "options",
    [
        dict(timing=0.7, ends="keep"),
        dict(quantize=0.5, random_ms=6.0, seed=3),
        dict(velocity=-1.0, random_velocity=5.0),
        dict(timing=0.0),
        dict(resolution=96),
        dict(channels=[9], notes=[36, 38]),
        dict(only_notes=True, timing=1.2),
    ],
)
def test_amounts_and_selections_equal_direct_render(options):
    mid = midifile.read(gmd_files(2)[1])
    assert_same(mid, LANES, block_sizes(0, seed=1), **options)


@needs_edge
@pytest.mark.parametrize(
    "path",
    sorted(p for p in EDGE.rglob("*.mid") if p.stat().st_size < 200_000) if EDGE.is_dir() else [],
    ids=lambda p: p.name,
)
def test_edge_corpus_block_render_equals_direct_render(path):
    try:
        mid = midifile.read(path)
    except MidiFileError:
        pytest.skip("not a file either renderer accepts (tested in test_render)")
    try:
        direct = render(mid, groove.swing(60))
    except (MidiFileError, ValueError) as exc:
        with pytest.raises(type(exc)):
            render_blocks(mid, groove.swing(60))
        return
    blocks = render_blocks(mid, groove.swing(60), sizes=block_sizes(0, seed=2))
    assert encoded(blocks) == encoded(direct)


def test_fixtures_equal_direct_render():
    for path in sorted(FIXTURES.glob("*.mid")):
        try:
            mid = midifile.read(path)
            direct = render(mid, LANES)
        except (MidiFileError, ValueError):
            continue
        assert encoded(render_blocks(mid, LANES, sizes=block_sizes(100))) == encoded(direct)


def test_wav_has_a_sound_at_every_note(tmp_path):
    sf = pytest.importorskip("soundfile")
    mid = midifile.read(HERE.parents[2] / "examples" / "drum-loop.mid")
    wav = tmp_path / "loop.wav"
    render_blocks(mid, groove.swing(58), sizes=block_sizes(256), sample_rate=48000, wav=wav)
    audio, sr = sf.read(wav)
    assert sr == 48000 and audio.ndim == 2  # FluidSynth's stereo (engine.midi.frames)
    audio = np.abs(audio).max(axis=1)
    # every 16th of the 2-bar loop at 120 BPM sounds: energy in each 16th's window
    sixteenth = sr // 8
    energy = [np.abs(audio[i * sixteenth : i * sixteenth + 2000]).max() for i in range(32)]
    assert min(energy) > 0.005  # the softest, closed hats, peak near 0.01 in TimGM6mb
