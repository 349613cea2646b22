"""Apply a groove to MIDI files: the Python API behind ``groove render``.

Positions are beats (tick / ticks_per_beat), so the tempo map is never
touched.  Per note (``groove.transform.apply_notes``): quantize toward the
lane groove's grid, add the note's random offset, map through the lane's
groove scaled by the timing amount; the note-off follows the same curve
(``ends="groove"``) or keeps the duration (``ends="keep"``).  Other channel
voice messages (CC, pitch bend, aftertouch, program change) move through
the main groove at their own position, so a pedal or an expression curve
stays with its notes (``only_notes=True`` leaves them).  Meta and sysex
events stay where they are.  New ticks are the nearest integer (ties up).

Note hygiene: in each (track, channel, pitch) where anything moved, starts
stay strictly increasing (a later note that lands on an earlier one moves
one tick later), every note lasts at least one tick, an earlier note ends
where the next begins (no stuck notes), note-offs that end no note are
dropped and notes that never end are closed at the end of their track; at
one tick a note-off goes before a note-on of the same pitch and channel.
Where nothing moved (e.g. all amounts 0), every event keeps its tick and
its order exactly, overlaps and all.  Events at one tick otherwise keep
their original relative order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import frames, midifile
from .direct import Options, RenderStats, _render_table, as_preset, load_preset
from .notetable import EventTable

if TYPE_CHECKING:  # the render path never imports mido
    import mido

__all__ = [
    "Options",
    "RenderStats",
    "as_preset",
    "load_preset",
    "render",
    "render_file",
    "render_with_stats",
]


def render(midi_file: mido.MidiFile, preset_or_groove, **options) -> mido.MidiFile:
    """Apply a groove to a ``mido.MidiFile``; returns a new one (the input is untouched).

    Parameters
    ----------
    midi_file : mido.MidiFile
        Tick-timed (not SMPTE); format 2 files are rendered track by track.
    preset_or_groove : Preset, Groove or str
        The groove; lanes of a preset apply per pitch.
    **options
        Amounts overriding the preset's (``timing``, ``quantize``,
        ``velocity``, ``random_ms``, ``random_velocity``, ``seed``), and
        ``ends`` ("groove"/"keep"), ``tracks`` (0-based track numbers),
        ``channels`` (0-15, as mido numbers them), ``notes`` (pitches),
        ``only_notes``, ``resolution`` (output ticks per beat), ``inverse``
        (apply the groove's inverse: undo a render).
    """
    return render_with_stats(midi_file, preset_or_groove, **options)[0]


def render_with_stats(midi_file, preset_or_groove, path="<midi>", **options):
    """``render`` plus its RenderStats."""
    preset = as_preset(preset_or_groove)
    opt = Options.make(preset, **options)
    out, stats = _render_table(EventTable.from_midifile(midi_file, path), preset, opt)
    return out.to_midifile(), stats


def render_file(
    in_path,
    out_path,
    preset_or_groove,
    *,
    engine="direct",
    block_size=256,
    block_seed=None,
    sample_rate=48000.0,
    rack=None,
    wav=None,
    soundfont=None,
    wav_depth="24",
    progress=None,
    notice=None,
    **options,
) -> RenderStats:
    """Read ``in_path``, render, write ``out_path`` atomically; returns RenderStats.

    The file is read straight into arrays and the output encoded from them
    (byte for byte what mido would write for ``render``'s result), with no
    mido object per note.  ``engine="blocks"`` plays the file through the
    block engine instead (``engine.midi.offline``: ``block_size`` frames per block,
    random sizes with ``block_seed``, at ``sample_rate``, through ``rack``): the same file.
    ``wav`` (.wav or .flac, ``wav_depth`` "16", "24" or "float") also writes what the
    output file sounds like through FluidSynth with ``soundfont`` at ``sample_rate``
    (``engine.midi.frames``); a missing SoundFont or an audio path that cannot be
    written fails before anything is written, and the audio is written before the
    MIDI file.  ``notice`` (a callable) gets the line saying the audio was scaled down.
    """
    if engine not in ("direct", "blocks"):
        raise ValueError(f"engine: {engine!r} is not known; use 'direct' or 'blocks'")
    if rack is not None and engine != "blocks":
        raise ValueError("--rack needs --engine blocks")
    synth = None
    if wav is not None:
        from engine.audio.render import check_output

        check_output(wav, wav_depth)
        synth = frames.open_synth(soundfont, sample_rate)
    try:
        table = EventTable.from_raw(midifile.read_raw(in_path), in_path)
        if engine == "blocks":
            # The block engine is imported only when asked for: a direct render need not pay it.
            from .offline import block_sizes, render_table_blocks

            sizes = block_sizes(block_size, block_seed)
            out, stats = render_table_blocks(
                table, preset_or_groove, sizes, sample_rate, rack, options
            )
        else:
            preset = as_preset(preset_or_groove)
            out, stats = _render_table(table, preset, Options.make(preset, **options))
        data = out.encode()
        if synth is not None:  # first: a failing audio write leaves no MIDI file either
            audio = frames.table_audio(out, synth, progress)
            frames.write_audio(wav, audio, sample_rate, wav_depth, notice)
        midifile.write_bytes(out_path, data)
    finally:
        if synth is not None:
            synth.close()
    return RenderStats(**{**stats.__dict__, "out_path": str(out_path)})
