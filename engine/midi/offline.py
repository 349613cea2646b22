"""The offline clock: play a MIDI file through the engine, block by block.

``groove render --engine blocks`` uses this instead of the direct
renderer's whole-array maths.  The file's notes and moving channel events
become a ``Timeline``; the offline clock calls ``Engine.process`` with the
requested block sizes, exactly as an audio callback would, until every note
has played; each note's new position is read back from the events the engine
emitted (they carry their exact beat), and the file is assembled by the
renderer's own code.  So a block render and a direct render agree note for
note and tick for tick, whatever the block size: that is the test that the
live engine places events where the groove says.
"""

from __future__ import annotations

import numpy as np

from engine.host.engine import Engine
from engine.host.events import NOTE_ON
from engine.host.processor import Rack
from engine.host.processors import GrooveProcessor
from engine.host.scheduler import Timeline
from engine.host.transport import FileTempo

from . import frames, midifile
from .direct import Options, RenderStats, _mask, _render_table, _ticks, as_preset
from .notetable import EventTable


def build_timeline(ev, nt, preset, opt):
    """The file's notes (all; ``moves`` marks the selected) and moving channel events."""
    tpb = ev.ticks_per_beat
    sel = _mask(nt.track, opt.tracks) & _mask(nt.channel, opt.channels) & _mask(nt.pitch, opt.notes)
    maps = ev.tempo_maps()
    tempo = np.empty(len(nt))
    for t in np.unique(nt.track):
        on = nt.track == t
        tempo[on] = maps[t].tempo_at(nt.start_tick[on])
    channel_of = (ev.status & 0x0F).astype(np.int64)
    a = opt.amounts
    cc = np.zeros(0, np.int64)
    if not opt.only_notes and a.timing != 0 and not preset.groove.is_identity:
        from .notetable import KIND_CHANNEL

        cc = np.flatnonzero(
            (ev.kind == KIND_CHANNEL)
            & _mask(ev.track, opt.tracks)
            & _mask(channel_of, opt.channels)
        )
    n, m = len(nt), cc.size
    timeline = Timeline.from_arrays(
        src_beat=np.concatenate([nt.start_tick / tpb, ev.tick[cc] / tpb]),
        end_beat=np.concatenate([nt.end_tick / tpb, np.full(m, np.nan)]),
        kind=np.concatenate([np.full(n, NOTE_ON), (ev.status[cc] & 0xF0).astype(np.int64)]),
        channel=np.concatenate([nt.channel, channel_of[cc]]),
        key=np.concatenate([nt.pitch, np.maximum(ev.data1[cc], 0)]),
        value=np.concatenate([nt.velocity, np.maximum(ev.data2[cc], 0)]),
        track=np.concatenate([nt.track, ev.track[cc]]),
        index=np.concatenate([nt.index, np.zeros(m, np.int64)]),
        tempo_us=np.concatenate([tempo, np.full(m, 500000.0)]),
        moves=np.concatenate([sel, np.ones(m, bool)]),
        row=np.arange(n + m),
    )
    return timeline, sel, cc


def block_sizes(block_size, seed=None, low=1, high=4096):
    """Endless block sizes: ``block_size`` each, or random in [low, high] with ``seed``."""
    rng = None if seed is None else np.random.default_rng(seed)
    while True:
        yield int(rng.integers(low, high + 1)) if rng is not None else block_size


def play(ev, nt, preset, opt, *, rack=None, sizes=None, sample_rate=48000.0, emitted=None):
    """Render through the engine; returns (sel, start_beat, end_beat, velocity, cc, cc_beat).

    Parameters
    ----------
    rack : Rack, optional
        Defaults to one groove processor with ``opt.amounts``.
    sizes : iterator of int, optional
        Block sizes (default 256 frames each).
    emitted : list, optional
        If given, each block's emitted events are appended to it (``EVENT_DTYPE``
        with ``frame`` made absolute).
    """
    if opt.inverse:
        raise ValueError(
            "--engine blocks cannot render the inverse of a groove; "
            "drop --inverse or use the direct renderer"
        )
    rack = rack or Rack([GrooveProcessor(preset, opt.amounts)])
    timeline, sel, cc = build_timeline(ev, nt, preset, opt)
    tempo = FileTempo(ev.tempo_maps()[0])
    engine = Engine(rack, timeline, tempo=tempo, ends=opt.ends)
    sizes = sizes or block_sizes(256)
    engine.prepare(sample_rate, 4096)
    engine.transport.play()
    block_frame = 0
    n_rows = len(timeline)
    beat = np.full(n_rows, np.nan)
    velocity = np.zeros(n_rows, np.int64)
    seen = np.zeros(n_rows, bool)
    while not engine.scheduler.done:
        frames = next(sizes)
        out = engine.process(frames).view()
        ons = out[(out["note"] >= 0) & (out["kind"] != 0x80)]
        rows = ons["note"]
        if np.any(seen[rows]):
            raise RuntimeError("the engine emitted a timeline event twice")
        seen[rows] = True
        beat[rows] = ons["beat"]
        velocity[rows] = ons["value"]
        if emitted is not None:
            block = out.copy()
            block["frame"] += block_frame
            emitted.append(block)
        block_frame += frames
    if not seen.all():
        raise RuntimeError(f"{int((~seen).sum())} timeline events were never emitted")
    n = len(nt)
    planned_off = np.empty(n_rows)
    planned_off[timeline.row] = engine.scheduler.planned_off
    return (sel, beat[:n], planned_off[:n], velocity[:n], cc, beat[n:])


def _block_mover(rack, sizes, sample_rate, emitted):
    """A ``render._render_table`` mover that plays the file through the engine."""

    def move(ev, nt, preset, opt, tpb_out):
        sel, start_beat, end_beat, vel, cc, cc_beat = play(
            ev, nt, preset, opt, rack=rack, sizes=sizes, sample_rate=sample_rate, emitted=emitted
        )
        tpb_in = ev.ticks_per_beat
        ev_tick = ev.tick.copy() if tpb_out == tpb_in else _ticks(ev.tick / tpb_in, tpb_out)
        ev_tick[cc] = _ticks(cc_beat, tpb_out)
        return sel, _ticks(start_beat, tpb_out), _ticks(end_beat, tpb_out), vel, ev_tick

    return move


def render_table_blocks(table, preset_or_groove, sizes, sample_rate, rack, options, emitted=None):
    """(rendered EventTable, RenderStats) of ``table`` through the block engine."""
    preset = as_preset(preset_or_groove)
    opt = Options.make(preset, **options)
    if isinstance(rack, (str, bytes)) or hasattr(rack, "__fspath__"):
        from engine.host.rack_file import load_rack

        rack = load_rack(rack)
    return _render_table(table, preset, opt, _block_mover(rack, sizes, sample_rate, emitted))


def render_blocks(
    midi_file,
    preset_or_groove,
    *,
    sizes=None,
    sample_rate=48000.0,
    rack=None,
    wav=None,
    soundfont=None,
    emitted=None,
    **options,
):
    """``engine.midi.render.render`` through the block engine and the offline clock.

    Parameters
    ----------
    sizes : iterator of int, optional
        Block sizes (``block_sizes``); 256 frames each by default.
    sample_rate : float
        Frames per second of the offline clock (and of the audio).
    rack : Rack or path, optional
        Processors to play through (default: one groove processor).
    wav : path, optional
        Also write what the result sounds like through FluidSynth (``engine.midi.frames``).
    soundfont : path, optional
        The SoundFont for ``wav`` (default: ``engine.audio.soundfont.find_soundfont``).
    emitted : list, optional
        Receives the engine's emitted events, block by block (see ``play``).
    **options
        As for ``engine.midi.render.render``.
    """
    synth = frames.open_synth(soundfont, sample_rate) if wav is not None else None
    try:
        table = EventTable.from_midifile(midi_file)
        out, _ = render_table_blocks(
            table, preset_or_groove, sizes, sample_rate, rack, options, emitted
        )
        if synth is not None:
            frames.write_table_audio(out, synth, wav)
    finally:
        if synth is not None:
            synth.close()
    return out.to_midifile()


def render_file_blocks(
    in_path,
    out_path,
    preset_or_groove,
    *,
    block_size=256,
    seed=None,
    sample_rate=48000.0,
    rack=None,
    **options,
) -> RenderStats:
    """``engine.midi.render.render_file`` through the block engine (``--engine blocks``)."""
    table = EventTable.from_raw(midifile.read_raw(in_path), in_path)
    out, stats = render_table_blocks(
        table, preset_or_groove, block_sizes(block_size, seed), sample_rate, rack, options
    )
    midifile.write_bytes(out_path, out.encode())
    return RenderStats(**{**stats.__dict__, "out_path": str(out_path)})
