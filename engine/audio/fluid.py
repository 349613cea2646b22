"""A ctypes binding of the few libfluidsynth functions groove needs.

Only what a single-threaded synth driven frame by frame needs is bound:
settings, a synth, one SoundFont, the channel voice messages and
``write_float``.  The synth's own threads stay off (``synth.cpu-cores`` 1,
no audio driver, no MIDI driver, no shell, and libgomp, which Debian's
FluidSynth links, loaded with ``OMP_NUM_THREADS=1`` so it starts no idle
worker): the caller's thread (the offline render, or the audio callback)
renders every frame.  Every setting's result is checked: FluidSynth keeps
its default when a value is out of range (a 192 kHz request would play at
44.1 kHz, wrong pitch and speed), so that is an error here.

Python calls the functions as ctypes function pointers with integer-sized
pointer arguments (``c_size_t``); the numba kernel (``engine.audio._segments``)
calls the same C functions by name, as external functions of the library
loaded here, so its machine code can be cached.

FluidSynth renders in blocks of ``fluid_synth_get_internal_bufsize`` frames
(64): a message sent between two ``write_float`` calls takes effect at the
start of the next internal block, so a note starts on that 64-frame grid of
the synth's own clock, not at the frame it was sent at: the synth is not
sample-accurate.  groove's callers send each message at the grid frame
nearest its own (``engine.audio.render.snap``): up to 32 frames early or 31
late (0.67 ms at 48 kHz), live the same within a block; offline ``--wav``
plays two synths with grids 32 frames apart (``engine.audio.twin``), each
note on the nearer one: -16..+15 frames.  See README, "Timing resolution".
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os

#: What to install when the library is missing (Debian/Ubuntu; Homebrew on macOS).
INSTALL_HINT = "install libfluidsynth3 (sh scripts/install-system.sh, or brew install fluid-synth)"

_P = ctypes.c_size_t  # pointers as integers: numba passes ints, ctypes accepts them
_I = ctypes.c_int
_S = ctypes.c_char_p
_D = ctypes.c_double

#: name -> (result type, argument types), as in include/fluidsynth/{settings,synth,log}.h
_SIGNATURES = {
    "new_fluid_settings": (_P, ()),
    "delete_fluid_settings": (None, (_P,)),
    "fluid_settings_setnum": (_I, (_P, _S, _D)),
    "fluid_settings_setint": (_I, (_P, _S, _I)),
    "fluid_settings_setstr": (_I, (_P, _S, _S)),
    "fluid_settings_getnum_range": (_I, (_P, _S, _P, _P)),
    "new_fluid_synth": (_P, (_P,)),
    "delete_fluid_synth": (None, (_P,)),
    "fluid_synth_sfload": (_I, (_P, _S, _I)),
    "fluid_synth_noteon": (_I, (_P, _I, _I, _I)),
    "fluid_synth_noteoff": (_I, (_P, _I, _I)),
    "fluid_synth_cc": (_I, (_P, _I, _I, _I)),
    "fluid_synth_pitch_bend": (_I, (_P, _I, _I)),
    "fluid_synth_program_change": (_I, (_P, _I, _I)),
    "fluid_synth_bank_select": (_I, (_P, _I, _I)),
    "fluid_synth_channel_pressure": (_I, (_P, _I, _I)),
    "fluid_synth_key_pressure": (_I, (_P, _I, _I, _I)),
    "fluid_synth_system_reset": (_I, (_P,)),
    "fluid_synth_all_sounds_off": (_I, (_P, _I)),
    "fluid_synth_get_active_voice_count": (_I, (_P,)),
    "fluid_synth_get_internal_bufsize": (_I, (_P,)),
    "fluid_synth_write_float": (_I, (_P, _I, _P, _I, _I, _P, _I, _I)),
    "fluid_set_log_function": (_P, (_I, _P, _P)),
}

FLUID_FAILED = -1
#: synth.sample-rate's range in FluidSynth 2.x (``fluid_settings_getnum_range``).
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 96000
_LOG_LEVELS = range(5)  # FLUID_PANIC .. FLUID_DBG

_LIB = None
_LIB_NAME = None


class SynthError(ValueError):
    """The synthesizer cannot run (no library, a bad SoundFont): one line, exit 2."""


def _candidates():
    env = os.environ.get("GROOVE_LIBFLUIDSYNTH")
    if env:
        yield env
        return
    found = ctypes.util.find_library("fluidsynth")
    if found:
        yield found
    yield from ("libfluidsynth.so.3", "libfluidsynth.so", "libfluidsynth.3.dylib")


@contextlib.contextmanager
def _one_omp_thread():
    """OMP_NUM_THREADS=1 while the library loads (libgomp reads it once, when it is
    loaded with libfluidsynth), then the environment as it was for everything else."""
    old = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = old


def _typed(lib, name):
    """``lib`` with every function of ``_SIGNATURES`` typed, or SynthError naming the first
    one it lacks (e.g. GROOVE_LIBFLUIDSYNTH naming another library)."""
    for fn_name, (res, args) in _SIGNATURES.items():
        try:
            fn = getattr(lib, fn_name)
        except AttributeError:
            raise SynthError(
                f"{name} is not libfluidsynth 2.x (no {fn_name}); {INSTALL_HINT}"
            ) from None
        fn.restype = res
        fn.argtypes = list(args)
    return lib


def library():
    """The loaded libfluidsynth with every function of ``_SIGNATURES`` typed.

    ``GROOVE_LIBFLUIDSYNTH``, when set, is the only library tried (a wrong one
    is an error, not a silent fallback); else the system's.

    Raises
    ------
    SynthError
        When no libfluidsynth can be loaded (with what to install).
    """
    global _LIB, _LIB_NAME
    if _LIB is not None:
        return _LIB
    errors = []
    for name in _candidates():
        try:
            with _one_omp_thread():
                lib = ctypes.CDLL(name)
            lib = _typed(lib, name)
        except OSError as exc:
            errors.append(SynthError(f"libfluidsynth is not installed ({exc}); {INSTALL_HINT}"))
            continue
        except SynthError as exc:
            errors.append(exc)
            continue
        for level in _LOG_LEVELS:  # FluidSynth's own stderr lines: we raise one of our own
            lib.fluid_set_log_function(level, 0, 0)
        _LIB, _LIB_NAME = lib, name
        return lib
    raise errors[0] if os.environ.get("GROOVE_LIBFLUIDSYNTH") else errors[-1]


def library_name() -> str:
    """The name the library was loaded by (``library`` first loads it)."""
    library()
    return _LIB_NAME


def available() -> str | None:
    """None when libfluidsynth loads, else why not (for ``groove doctor``)."""
    try:
        library()
    except SynthError as exc:
        return str(exc)
    return None


@contextlib.contextmanager
def _quiet_stderr():
    """Silence fd 2 while a SoundFont loads: libinstpatch (FluidSynth's DLS loader) prints
    glib warnings about files it cannot read, and we print one line of our own."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class FluidSynth:
    """One FluidSynth synthesizer with one SoundFont, rendered by its caller.

    Parameters
    ----------
    soundfont : path
        An .sf2/.sf3 file (``engine.audio.soundfont.find_soundfont`` finds one).
    sample_rate : float
        Frames per second of the output.
    reverb, chorus : bool
        FluidSynth's effects (on by default, as FluidSynth plays).
    gain : float
        FluidSynth's master gain (its default, 0.2, keeps a full GM mix below 0 dBFS).
    polyphony : int
        Most voices at once.

    Raises
    ------
    SynthError
        No library, or a file FluidSynth cannot load as a SoundFont.
    """

    def __init__(
        self, soundfont, sample_rate=48000.0, *, reverb=True, chorus=True, gain=0.2, polyphony=256
    ):
        lib = library()
        self.lib = lib
        self.sample_rate = float(sample_rate)
        self.soundfont = str(soundfont)
        self.settings = lib.new_fluid_settings()
        self.ptr = 0
        if not self.settings:
            raise SynthError("FluidSynth could not create its settings (out of memory?)")
        try:
            self._set_rate()
            self._set("synth.cpu-cores", 1)  # no worker threads
            self._set("synth.reverb.active", int(reverb))
            self._set("synth.chorus.active", int(chorus))
            self._set("synth.polyphony", int(polyphony))
            self._set("synth.gain", float(gain))
            self._set("synth.lock-memory", 0)
        except SynthError:
            self.close()
            raise
        self.ptr = lib.new_fluid_synth(self.settings) or 0
        if not self.ptr:
            self.close()
            raise SynthError(f"FluidSynth could not start at {self.sample_rate:g} Hz")
        with _quiet_stderr():
            sfont_id = lib.fluid_synth_sfload(self.ptr, os.fsencode(self.soundfont), 1)
        if sfont_id == FLUID_FAILED:
            self.close()
            raise SynthError(
                f"{self.soundfont}: FluidSynth cannot load this file as a SoundFont "
                "(not an .sf2/.sf3, or damaged); pass another with --soundfont"
            )
        self.block_frames = int(lib.fluid_synth_get_internal_bufsize(self.ptr))

    def _set(self, name: str, value) -> None:
        """One setting, or SynthError: FluidSynth keeps its default when it refuses one."""
        lib, key = self.lib, name.encode()
        if isinstance(value, float):
            ok = lib.fluid_settings_setnum(self.settings, key, value)
        else:
            ok = lib.fluid_settings_setint(self.settings, key, int(value))
        if ok == FLUID_FAILED:
            raise SynthError(f"FluidSynth refuses {name} = {value!r} (out of its range)")

    def _set_rate(self) -> None:
        lo, hi = ctypes.c_double(), ctypes.c_double()
        self.lib.fluid_settings_getnum_range(
            self.settings, b"synth.sample-rate", ctypes.addressof(lo), ctypes.addressof(hi)
        )
        lo_hz = lo.value or MIN_SAMPLE_RATE
        hi_hz = hi.value or MAX_SAMPLE_RATE
        if not lo_hz <= self.sample_rate <= hi_hz:
            raise SynthError(
                f"FluidSynth plays {lo_hz:g}-{hi_hz:g} Hz, not {self.sample_rate:g} Hz; "
                "use --sample-rate 48000"
            )
        self._set("synth.sample-rate", self.sample_rate)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Free the synth and its settings (idempotent)."""
        if self.ptr:
            self.lib.delete_fluid_synth(self.ptr)
            self.ptr = 0
        if self.settings:
            self.lib.delete_fluid_settings(self.settings)
            self.settings = 0

    def reset(self) -> None:
        """MIDI system reset: every sound off, controllers and programs to defaults."""
        self.lib.fluid_synth_system_reset(self.ptr)

    def bank_select(self, channel: int, bank: int) -> None:
        """Select a bank on a channel (takes effect at the next program change)."""
        self.lib.fluid_synth_bank_select(self.ptr, channel, bank)

    def active_voices(self) -> int:
        """Voices sounding now."""
        return int(self.lib.fluid_synth_get_active_voice_count(self.ptr))
