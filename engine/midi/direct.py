"""The direct renderer: whole-array note maths over one file's event table.

Shared by ``render`` (the public API) and ``offline`` (the block engine
plays the same table); the rules are in ``render``'s docstring.
Main thread; imports host-free modules only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.presets.model import Preset
from groove import Groove
from groove import transform as tf

from .assemble import assemble
from .notetable import KIND_CHANNEL, EventTable, NoteTable


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
    raise TypeError(
        f"preset: expected a Preset, a Groove or a preset name, got "
        f"{type(preset_or_groove).__name__}"
    )


def load_preset(name: str) -> Preset:
    """A preset by name or path, through ``engine.presets.load``."""
    from engine.presets import load

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
    def make(
        cls,
        preset: Preset,
        *,
        ends="groove",
        tracks=None,
        channels=None,
        notes=None,
        only_notes=False,
        resolution=None,
        inverse=False,
        **amounts,
    ):
        unknown = set(amounts) - {
            "timing",
            "quantize",
            "velocity",
            "random_ms",
            "random_velocity",
            "seed",
        }
        if unknown:
            raise TypeError(f"unknown render option(s): {', '.join(sorted(unknown))}")
        if ends not in tf.ENDS:
            raise ValueError(f"ends: {ends!r} is not known; use 'groove' or 'keep'")
        if resolution is not None and (
            isinstance(resolution, bool)
            or not isinstance(resolution, (int, np.integer))
            or not 1 <= resolution <= 32767
        ):
            raise ValueError(f"resolution: {resolution!r} ticks per beat; use 1 to 32767")
        resolved = preset.amounts.override(**amounts)
        if resolved.timing != 0:
            for g in preset.grooves():
                tf.scaled(g, resolved.timing)  # raises, naming the largest amount allowed
        sets = [
            None if v is None else frozenset(int(x) for x in v) for v in (tracks, channels, notes)
        ]
        return cls(
            resolved,
            ends,
            *sets,
            bool(only_notes),
            None if resolution is None else int(resolution),
            bool(inverse),
        )


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
            on_map = (
                np.array([maps[t] is m for t in nt.track[sel]], bool)
                if ev.fmt == 2
                else np.ones(z.shape, bool)
            )
            tempo[on_map] = m.tempo_at(nt.start_tick[sel][on_map])
        rnd = tf.ms_to_beat(z * a.random_ms, tempo)
    vrnd = (
        None
        if a.random_velocity == 0
        else a.random_velocity
        * tf.note_noise(a.seed, tf.STREAM_VELOCITY, nt.track[sel], nt.index[sel])
    )
    return rnd, vrnd


def _move_notes(ev, nt, preset, opt, tpb_out):
    """New start/end ticks and velocities of every note (unselected ones unchanged)."""
    tpb_in = ev.ticks_per_beat
    a = opt.amounts
    sel = _mask(nt.track, opt.tracks) & _mask(nt.channel, opt.channels) & _mask(nt.pitch, opt.notes)
    start = _ticks(nt.start_tick / tpb_in, tpb_out)
    end = _ticks(nt.end_tick / tpb_in, tpb_out)
    vel = nt.velocity.copy()
    if sel.any():
        rnd, vrnd = _note_offsets(ev, nt, sel, a)
        lane = preset.lane_of_pitch()[nt.pitch[sel]] + 1
        ns, ne, nv = tf.apply_notes(
            preset.grooves(),
            lane,
            nt.start_tick[sel] / tpb_in,
            nt.end_tick[sel] / tpb_in,
            nt.velocity[sel],
            timing=a.timing,
            quantize=a.quantize,
            velocity_amount=a.velocity,
            ends=opt.ends,
            random_offset_beat=rnd,
            velocity_offset=vrnd,
            inverse=opt.inverse,
        )
        start[sel], end[sel], vel[sel] = _ticks(ns, tpb_out), _ticks(ne, tpb_out), nv
    return sel, start, end, vel


def _direct_moves(ev, nt, preset, opt, tpb_out):
    """New ticks of every note and channel event, by whole-array maths."""
    tpb_in = ev.ticks_per_beat
    a = opt.amounts
    ev_tick = ev.tick.copy() if tpb_out == tpb_in else _ticks(ev.tick / tpb_in, tpb_out)
    channel_of = ev.status & 0x0F
    if not opt.only_notes and a.timing != 0 and not preset.groove.is_identity:
        cc = np.flatnonzero(
            (ev.kind == KIND_CHANNEL)
            & _mask(ev.track, opt.tracks)
            & _mask(channel_of, opt.channels)
        )
        ev_tick[cc] = _ticks(
            tf.move(preset.groove, ev.tick[cc] / tpb_in, a.timing, opt.inverse), tpb_out
        )
    sel, start, end, vel = _move_notes(ev, nt, preset, opt, tpb_out)
    return sel, start, end, vel, ev_tick


def _render_table(ev: EventTable, preset: Preset, opt: Options, mover=None):
    """Render an EventTable; ``mover`` computes the new ticks (default: direct maths).

    The block engine (``engine.midi.offline``) passes its own mover, so both
    renderers share the checks here and the assembly in ``engine.midi.assemble``.
    """
    if ev.n_tracks == 0:
        raise ValueError("the file has no tracks; there is nothing to render")
    if ev.ticks_per_beat <= 0:
        raise ValueError(
            f"ticks_per_beat is {ev.ticks_per_beat} (SMPTE timing has no beats); "
            "groove needs a file timed in ticks per beat"
        )
    nt = NoteTable.from_events(ev)
    tpb_out = opt.resolution or ev.ticks_per_beat
    sel, start, end, vel, ev_tick = (mover or _direct_moves)(ev, nt, preset, opt, tpb_out)
    out, stats = assemble(ev, nt, tpb_out, start, end, vel, ev_tick)
    return out, RenderStats(**{**stats, "notes_selected": int(sel.sum())})
