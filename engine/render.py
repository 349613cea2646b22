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

from dataclasses import dataclass

import mido
import numpy as np

from groove import Groove
from groove import transform as tf

from . import midifile
from .assemble import assemble
from .notetable import KIND_CHANNEL, EventTable, NoteTable
from .preset import Preset


@dataclass(frozen=True)
class RenderStats:
    """What a render did, for summaries.

    ``orphan_offs_dropped``/``unended_closed`` count repairs in moved
    pitches; ``orphan_offs_kept``/``unended_kept`` the same problems left
    as they were where nothing moved.
    """

    tracks: int = 0
    notes: int = 0
    notes_selected: int = 0
    notes_moved: int = 0
    orphan_offs_dropped: int = 0
    orphan_offs_kept: int = 0
    unended_closed: int = 0
    unended_kept: int = 0
    ticks_per_beat: int = 0
    out_path: str | None = None


def as_preset(preset_or_groove) -> Preset:
    """A Preset from a Preset, a Groove, or a preset name/path (via engine.presets)."""
    if isinstance(preset_or_groove, Preset):
        return preset_or_groove
    if isinstance(preset_or_groove, Groove):
        return Preset.from_groove(preset_or_groove)
    if isinstance(preset_or_groove, str):
        return load_preset(preset_or_groove)
    raise TypeError(f"preset: expected a Preset, a Groove or a preset name, got "
                    f"{type(preset_or_groove).__name__}")


def load_preset(name: str) -> Preset:
    """A preset by name or path, through ``engine.presets.load``."""
    from .presets import load

    return load(name)


@dataclass(frozen=True)
class Options:
    """Validated render options (see ``render`` for their meaning)."""

    amounts: object
    ends: str = "groove"
    tracks: frozenset | None = None
    channels: frozenset | None = None
    notes: frozenset | None = None
    only_notes: bool = False
    resolution: int | None = None
    inverse: bool = False

    @classmethod
    def make(cls, preset: Preset, *, ends="groove", tracks=None, channels=None, notes=None,
             only_notes=False, resolution=None, inverse=False, **amounts):
        unknown = set(amounts) - {"timing", "quantize", "velocity", "random_ms",
                                  "random_velocity", "seed"}
        if unknown:
            raise TypeError(f"unknown render option(s): {', '.join(sorted(unknown))}")
        if ends not in tf.ENDS:
            raise ValueError(f"ends: {ends!r} is not known; use 'groove' or 'keep'")
        if resolution is not None and (isinstance(resolution, bool) or not isinstance(
                resolution, (int, np.integer)) or not 1 <= resolution <= 32767):
            raise ValueError(f"resolution: {resolution!r} ticks per beat; use 1 to 32767")
        resolved = preset.amounts.override(**amounts)
        if resolved.timing != 0:
            for g in preset.grooves():
                tf.scaled(g, resolved.timing)  # raises, naming the largest amount allowed
        sets = [None if v is None else frozenset(int(x) for x in v)
                for v in (tracks, channels, notes)]
        return cls(resolved, ends, *sets, bool(only_notes),
                   None if resolution is None else int(resolution), bool(inverse))


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


def render_file(in_path, out_path, preset_or_groove, *, engine="direct", block_size=256,
                block_seed=None, sample_rate=48000.0, rack=None, wav=None,
                **options) -> RenderStats:
    """Read ``in_path``, render, write ``out_path`` atomically; returns RenderStats.

    The file is read straight into arrays and the output encoded from them
    (byte for byte what mido would write for ``render``'s result), with no
    mido object per note.  ``engine="blocks"`` plays the file through the
    block engine instead (``engine.offline``: ``block_size`` frames per block,
    random sizes with ``block_seed``, at ``sample_rate``, through ``rack``,
    optionally writing the built-in drum synth to ``wav``): the same file.
    """
    if engine == "blocks":
        from .offline import render_file_blocks

        return render_file_blocks(in_path, out_path, preset_or_groove, block_size=block_size,
                                  seed=block_seed, sample_rate=sample_rate, rack=rack, wav=wav,
                                  **options)
    if engine != "direct":
        raise ValueError(f"engine: {engine!r} is not known; use 'direct' or 'blocks'")
    if rack is not None or wav is not None:
        raise ValueError("--rack and --wav need --engine blocks")
    preset = as_preset(preset_or_groove)
    opt = Options.make(preset, **options)
    table = EventTable.from_raw(midifile.read_raw(in_path), in_path)
    out, stats = _render_table(table, preset, opt)
    midifile.write_bytes(out_path, out.encode())
    return RenderStats(**{**stats.__dict__, "out_path": str(out_path)})


def _ticks(beats, tpb):
    """Nearest tick (ties up), never before 0."""
    return np.maximum(np.floor(np.asarray(beats) * tpb + 0.5), 0).astype(np.int64)


def _mask(values, allowed):
    return np.ones(values.shape, bool) if allowed is None else np.isin(values, list(allowed))


def _note_offsets(ev, nt, sel, a):
    """Random timing offsets (beats) and velocity offsets of the selected notes."""
    if a.random_ms == 0:
        rnd = None
    else:
        z = tf.note_noise(a.seed, tf.STREAM_TIMING, nt.track[sel], nt.index[sel])
        tempo = np.empty(z.shape)
        maps = ev.tempo_maps()
        for m in {id(m): m for m in maps}.values():
            on_map = np.array([maps[t] is m for t in nt.track[sel]], bool) \
                if ev.fmt == 2 else np.ones(z.shape, bool)
            tempo[on_map] = m.tempo_at(nt.start_tick[sel][on_map])
        rnd = tf.ms_to_beat(z * a.random_ms, tempo)
    vrnd = None if a.random_velocity == 0 else a.random_velocity * tf.note_noise(
        a.seed, tf.STREAM_VELOCITY, nt.track[sel], nt.index[sel])
    return rnd, vrnd


def _move_notes(ev, nt, preset, opt, tpb_out):
    """New start/end ticks and velocities of every note (unselected ones unchanged)."""
    tpb_in = ev.ticks_per_beat
    a = opt.amounts
    sel = _mask(nt.track, opt.tracks) & _mask(nt.channel, opt.channels) & \
        _mask(nt.pitch, opt.notes)
    start = _ticks(nt.start_tick / tpb_in, tpb_out)
    end = _ticks(nt.end_tick / tpb_in, tpb_out)
    vel = nt.velocity.copy()
    if sel.any():
        rnd, vrnd = _note_offsets(ev, nt, sel, a)
        lane = preset.lane_of_pitch()[nt.pitch[sel]] + 1
        ns, ne, nv = tf.apply_notes(
            preset.grooves(), lane, nt.start_tick[sel] / tpb_in, nt.end_tick[sel] / tpb_in,
            nt.velocity[sel], timing=a.timing, quantize=a.quantize, velocity_amount=a.velocity,
            ends=opt.ends, random_offset_beat=rnd, velocity_offset=vrnd, inverse=opt.inverse)
        start[sel], end[sel], vel[sel] = _ticks(ns, tpb_out), _ticks(ne, tpb_out), nv
    return sel, start, end, vel


def _direct_moves(ev, nt, preset, opt, tpb_out):
    """New ticks of every note and channel event, by whole-array maths."""
    tpb_in = ev.ticks_per_beat
    a = opt.amounts
    ev_tick = ev.tick.copy() if tpb_out == tpb_in else _ticks(ev.tick / tpb_in, tpb_out)
    channel_of = ev.status & 0x0F
    if not opt.only_notes and a.timing != 0 and not preset.groove.is_identity:
        cc = np.flatnonzero((ev.kind == KIND_CHANNEL) & _mask(ev.track, opt.tracks)
                            & _mask(channel_of, opt.channels))
        ev_tick[cc] = _ticks(tf.move(preset.groove, ev.tick[cc] / tpb_in, a.timing,
                                     opt.inverse), tpb_out)
    sel, start, end, vel = _move_notes(ev, nt, preset, opt, tpb_out)
    return sel, start, end, vel, ev_tick


def _render_table(ev: EventTable, preset: Preset, opt: Options, mover=None):
    """Render an EventTable; ``mover`` computes the new ticks (default: direct maths).

    The block engine (``engine.offline``) passes its own mover, so both
    renderers share the checks here and the assembly in ``engine.assemble``.
    """
    if ev.n_tracks == 0:
        raise ValueError("the file has no tracks; there is nothing to render")
    if ev.ticks_per_beat <= 0:
        raise ValueError(f"ticks_per_beat is {ev.ticks_per_beat} (SMPTE timing has no beats); "
                         "groove needs a file timed in ticks per beat")
    nt = NoteTable.from_events(ev)
    tpb_out = opt.resolution or ev.ticks_per_beat
    sel, start, end, vel, ev_tick = (mover or _direct_moves)(ev, nt, preset, opt, tpb_out)
    out, stats = assemble(ev, nt, tpb_out, start, end, vel, ev_tick)
    return out, RenderStats(**{**stats, "notes_selected": int(sel.sum())})
