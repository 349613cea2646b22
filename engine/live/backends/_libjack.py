"""libjack through ctypes, callable from numba nopython code by address.

The JACK process callback (``jack_native``) is a numba ``cfunc``: it must
call libjack's MIDI and port functions without Python.  numba can call a
ctypes function object, but code that embeds one cannot be cached (the
address changes from process to process), and a cold compile of the
callback would cost the session its fast start.  So the callback gets the
function *addresses* at run time, in its state block, and calls them
through the small intrinsics below (an integer -> function pointer cast and
a C call).  Pointers travel as 64-bit integers: on x86-64 and aarch64 a
pointer argument and a 64-bit integer argument are passed the same way.

The main thread uses the same ctypes objects (``LIB``) for what JACK-Client
does not offer: the process and latency callbacks, latency ranges.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

#: jack_latency_callback_mode_t
CAPTURE_LATENCY, PLAYBACK_LATENCY = 0, 1

#: sizeof(jack_midi_event_t) on a 64-bit platform: uint32 time (+4 padding),
#: size_t size, jack_midi_data_t *buffer.
MIDI_EVENT_BYTES = 24


class LatencyRange(ctypes.Structure):
    """jack_latency_range_t: min and max, in frames."""

    _fields_ = [("min", ctypes.c_uint32), ("max", ctypes.c_uint32)]


PROCESS_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p)
LATENCY_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p)

_P = ctypes.c_void_p
_SIGNATURES = {
    # name: (restype, argtypes); pointer results the callback uses are integers.
    "jack_port_get_buffer": (ctypes.c_uint64, [_P, ctypes.c_uint32]),
    "jack_midi_get_event_count": (ctypes.c_uint32, [ctypes.c_uint64]),
    "jack_midi_event_get": (ctypes.c_int, [ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32]),
    "jack_midi_clear_buffer": (None, [ctypes.c_uint64]),
    "jack_midi_event_write": (
        ctypes.c_int,
        [ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_size_t],
    ),
    "jack_last_frame_time": (ctypes.c_uint32, [_P]),
    "jack_frame_time": (ctypes.c_uint32, [_P]),
    "jack_get_time": (ctypes.c_uint64, []),
    "jack_set_process_callback": (ctypes.c_int, [_P, _P, _P]),
    "jack_set_latency_callback": (ctypes.c_int, [_P, LATENCY_CALLBACK, _P]),
    "jack_port_get_latency_range": (None, [_P, ctypes.c_int, ctypes.POINTER(LatencyRange)]),
    "jack_port_set_latency_range": (None, [_P, ctypes.c_int, ctypes.POINTER(LatencyRange)]),
    "jack_recompute_total_latencies": (ctypes.c_int, [_P]),
}


class _Lib:
    """libjack's functions as ctypes objects (``LIB.jack_frame_time`` ...)."""

    def __init__(self):
        self._dll = None

    def _load(self):
        name = ctypes.util.find_library("jack") or "libjack.so.0"
        try:
            dll = ctypes.CDLL(name)
        except OSError as exc:
            raise OSError(
                f"libjack: cannot load {name} ({exc}); install jackd2's libjack"
            ) from None
        for fname, (res, args) in _SIGNATURES.items():
            fn = getattr(dll, fname)
            fn.restype, fn.argtypes = res, args
        self._dll = dll
        return dll

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        dll = self._dll or self._load()
        return getattr(dll, name)

    def address(self, name: str) -> int:
        """The C address of libjack's function ``name``."""
        return ctypes.cast(getattr(self, name), ctypes.c_void_p).value


LIB = _Lib()


def libc_address(name: str) -> int:
    """The C address of a libc function (``clock_gettime``)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return ctypes.cast(getattr(libc, name), ctypes.c_void_p).value


# -- calls by address, from nopython code ----------------------------------------
def _caller(ret, nargs_llvm):
    """An intrinsic ``f(addr, *args)`` calling the C function at ``addr``.

    ``ret`` is the numba result type (``types.void`` for none); ``nargs_llvm``
    the LLVM type of each argument (``ir.IntType(64)`` for pointers and
    size_t, ``ir.IntType(32)`` for uint32/int).  Arguments are integers of
    any width; they are truncated or zero-extended to the C types.
    """

    @intrinsic
    def call(typingctx, addr, args):
        if len(args) != len(nargs_llvm):
            return None
        sig = ret(types.int64, args)

        def codegen(context, builder, signature, llargs):
            lret = ir.VoidType() if ret == types.void else context.get_value_type(ret)
            fnty = ir.FunctionType(lret, list(nargs_llvm))
            fn = builder.inttoptr(llargs[0], fnty.as_pointer())
            values = []
            tup = llargs[1]
            for i, want in enumerate(nargs_llvm):
                v = builder.extract_value(tup, i)
                have = v.type.width
                if have > want.width:
                    v = builder.trunc(v, want)
                elif have < want.width:
                    v = builder.zext(v, want)
                values.append(v)
            res = builder.call(fn, values)
            if ret == types.void:
                return context.get_dummy_value()
            return res

        return sig, codegen

    return call


_I64, _I32 = ir.IntType(64), ir.IntType(32)
#: f(addr) -> uint64 (jack_get_time)
call_r64 = _caller(types.uint64, ())
#: f(addr, ptr) -> uint32 (jack_midi_get_event_count, jack_last_frame_time)
call_r32_p = _caller(types.uint32, (_I64,))
#: f(addr, ptr, uint32) -> uint64 (jack_port_get_buffer)
call_r64_p32 = _caller(types.uint64, (_I64, _I32))
#: f(addr, ptr, ptr, uint32) -> int32 (jack_midi_event_get)
call_r32_pp32 = _caller(types.int32, (_I64, _I64, _I32))
#: f(addr, ptr) (jack_midi_clear_buffer)
call_v_p = _caller(types.void, (_I64,))
#: f(addr, ptr, uint32, ptr, size_t) -> int32 (jack_midi_event_write)
call_r32_p3_2p = _caller(types.int32, (_I64, _I32, _I64, _I64))
#: f(addr, int32, ptr) -> int32 (clock_gettime)
call_r32_3p = _caller(types.int32, (_I32, _I64))


@intrinsic
def as_voidptr(typingctx, addr):
    """An integer address as a ``void *`` (for ``numba.carray``)."""
    sig = types.voidptr(addr)

    def codegen(context, builder, signature, llargs):
        return builder.inttoptr(llargs[0], context.get_value_type(types.voidptr))

    return sig, codegen


@intrinsic
def voidptr_address(typingctx, ptr):
    """A ``void *`` as an integer address."""
    sig = types.int64(ptr)

    def codegen(context, builder, signature, llargs):
        return builder.ptrtoint(llargs[0], ir.IntType(64))

    return sig, codegen
