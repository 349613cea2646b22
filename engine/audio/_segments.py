"""The segment renderer: FluidSynth run between events, one numba kernel.

``render_segments`` is the one place that turns event rows into audio, both
offline (``engine.audio.render``, block after block of a file) and in an
audio callback (it takes no Python object and allocates nothing, so a numba
cfunc or a JACK callback calls it per block).  Importing this module loads
libfluidsynth (``engine.audio.fluid.library``) into numba's linker: the
kernel calls FluidSynth's C functions by name (``ExternalFunction``), so its
machine code is cached like every kernel's and nothing compiles at start-up
after the first run.  Being C calls, the kernel has no plain-Python run:
callers use ``compiled()`` (``GROOVE_JIT=never`` does not apply here).

Rows are int64 ``(frame, status, data1, data2)``: frame relative to the
block, sorted; status a MIDI channel status byte (0x80..0xEF) or ``RESET``
(0xFF: a system reset, then every sound off at once).  Note-on with
velocity 0 is a note-off; pitch bend is ``data1 | data2 << 7`` (the file's
LSB, MSB).  Bank select and the pitch bend range arrive as controllers
(CC 0/32, RPN 0), which FluidSynth applies.
"""

from __future__ import annotations

import llvmlite.binding as _llvm
import numpy as np
from numba import types as _t

from groove._numba import kernel

from .fluid import library_name

RESET = 0xFF

_llvm.load_library_permanently(library_name())
_P, _I = _t.intp, _t.intc


def _fn(name, *args):
    return _t.ExternalFunction(name, _I(*args))


# include/fluidsynth/synth.h
_write = _fn("fluid_synth_write_float", _P, _I, _P, _I, _I, _P, _I, _I)
_noteon = _fn("fluid_synth_noteon", _P, _I, _I, _I)
_noteoff = _fn("fluid_synth_noteoff", _P, _I, _I)
_cc = _fn("fluid_synth_cc", _P, _I, _I, _I)
_bend = _fn("fluid_synth_pitch_bend", _P, _I, _I)
_program = _fn("fluid_synth_program_change", _P, _I, _I)
_chan_pressure = _fn("fluid_synth_channel_pressure", _P, _I, _I)
_key_pressure = _fn("fluid_synth_key_pressure", _P, _I, _I, _I)
_reset = _fn("fluid_synth_system_reset", _P)
_sounds_off = _fn("fluid_synth_all_sounds_off", _P, _I)


@kernel
def _send(synth, status, d1, d2):
    kind = status & 0xF0
    ch = np.intc(status & 0x0F)
    a = np.intc(d1)
    b = np.intc(d2)
    if status == RESET:
        # FluidSynth's reset lets voices ring out their release (and undoes a sounds-off
        # sent just before it), so the sounds go off after it
        _reset(synth)
        _sounds_off(synth, np.intc(-1))
    elif kind == 0x90 and d2 > 0:
        _noteon(synth, ch, a, b)
    elif kind == 0x80 or kind == 0x90:
        _noteoff(synth, ch, a)
    elif kind == 0xB0:
        _cc(synth, ch, a, b)
    elif kind == 0xC0:
        _program(synth, ch, a)
    elif kind == 0xE0:
        _bend(synth, ch, np.intc(d1 | (d2 << 7)))
    elif kind == 0xD0:
        _chan_pressure(synth, ch, a)
    elif kind == 0xA0:
        _key_pressure(synth, ch, a, b)


@kernel
def render_segments(synth_ptr, events, n, frames, out_l, out_r):
    """Render ``frames`` frames into out_l/out_r, each of the first ``n`` events sent at its frame.

    The synth is rendered up to an event's frame, then the event is sent,
    and so on; a frame before the previous one counts as the previous one, a
    frame at or past ``frames`` as the end of the block.  FluidSynth starts a
    message at its next 64-frame block, so callers send at grid frames
    (``engine.audio.render.snap``, ``engine.audio.live``).  The block's audio
    overwrites ``out_l[:frames]`` and ``out_r[:frames]`` (float32, contiguous).
    Returns the number of events sent.
    """
    pos = 0
    lp = out_l.ctypes.data
    rp = out_r.ctypes.data
    one = np.intc(1)
    for i in range(n):
        frame = min(max(events[i, 0], pos), frames)
        if frame > pos:
            at = np.intc(pos)
            _write(synth_ptr, np.intc(frame - pos), lp, at, one, rp, at, one)
            pos = frame
        _send(synth_ptr, events[i, 1], events[i, 2], events[i, 3])
    if frames > pos:
        at = np.intc(pos)
        _write(synth_ptr, np.intc(frames - pos), lp, at, one, rp, at, one)
    return n


def compiled():
    """The numba dispatcher of ``render_segments`` (compiled, or loaded from the cache)."""
    return getattr(render_segments, "compiled", render_segments)
