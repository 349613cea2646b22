"""The one place that sets numba's options, and the lazy ``kernel`` decorator.

``OPTIONS``: ``cache=True`` writes compiled machine code next to the sources
(or into NUMBA_CACHE_DIR) so a second process loads it instead of compiling;
``nogil=True`` lets an audio thread run a kernel while Python threads go on;
``error_model='numpy'`` keeps division by zero from raising inside a kernel
(an audio callback must never raise); fastmath stays off because the inverse
relies on exact IEEE comparisons at segment ends (and so that the plain
Python run below computes the same bits: no reassociation, no fused
multiply-add).

One implementation, two ways to run it
--------------------------------------
``@kernel`` returns a :class:`Kernel` holding the plain Python function;
numba is not imported until something needs compiled code, because
importing numba and loading its cached machine code costs several times a
small job (``groove presets list``, ``groove render`` of a drum loop).

- A call whose work is small runs the Python function itself, on the same
  numpy arrays: numba compiles exactly this code, and on float64/int64 scalars
  and arrays its semantics are Python's.  The work of a call is the length of
  its longest 1-D array argument; small is at most :data:`SMALL_WORK`.
  Kernels it calls run as plain Python too (a copy of the function whose
  globals name the callees' Python functions: no dispatch per inner call).
- The first large call, :meth:`Kernel.compile`, the ``compiled`` attribute or
  :func:`compile_all` (``groove.warmup()`` calls it, and with it
  ``Engine.prepare``) imports numba and compiles the function with
  ``numba.njit(**OPTIONS)`` (loading it from the cache when it is there).
  From then on every call of that kernel runs compiled, and after the first
  large call or :func:`compile_all` every kernel does (numba is paid for;
  plain Python would only be slower), so nothing compiles later in a
  prepared engine (the live path's rule: nothing compiles on the audio
  thread).
- Inside compiled code a ``Kernel`` is its compiled dispatcher (numba types it
  through ``_numba_type_``), so kernels call kernels, and ``numba.njit`` or
  ``numba.cfunc`` code elsewhere may call a ``Kernel`` directly.  ``k.compiled``
  is the ``numba`` dispatcher itself (for ``.signatures``, ``.address`` of
  cfuncs, and the like); unknown attributes are looked up on it.

Where the Python run may differ from numba, callers must not go: both
assume validated input.  Non-finite values where a kernel converts to int
(numba gives garbage, Python raises), float division by a Python float 0.0
(numba gives inf, Python raises ZeroDivisionError; numpy scalars give inf in
both, warnings silenced) and integer overflow (numpy scalars wrap in both;
Python ints from ``range`` or literals never overflow).  Kernels keep integer
arithmetic in int64 (or uint64 for hashes) for that reason;
``tests/groove/test_small_path.py`` runs both ways and compares the bits.

``GROOVE_JIT`` in the environment overrides the choice: ``auto`` (default),
``always`` (compile everything on first call) or ``never`` (plain Python
only, for tests and debugging); :func:`set_mode` does the same at run time.
"""

from __future__ import annotations

import functools
import os
import threading
import types

import numpy as np

OPTIONS = dict(cache=True, nogil=True, error_model="numpy", fastmath=False)

#: Longest 1-D array a call may have and still run as plain Python: a file
#: of about 50,000 events (200 kB) renders faster in plain Python than numba
#: takes to import and load its cached kernels (see bench/bench_startup.py).
SMALL_WORK = 200_000

MODES = ("auto", "always", "never")
_lock = threading.RLock()
_mode = "auto"
_compile_new = False  # set by compile_all: kernels defined later compile on first call
_registry: list = []


def set_mode(mode: str) -> str:
    """Choose how kernels run: ``auto``, ``always`` or ``never``; returns the old mode."""
    global _mode
    if mode not in MODES:
        raise ValueError(f"GROOVE_JIT / mode: {mode!r} is not known; use one of {', '.join(MODES)}")
    old, _mode = _mode, mode
    return old


def mode() -> str:
    """The current mode (see :func:`set_mode`)."""
    return _mode


def compile_all() -> None:
    """Compile (or load from numba's cache) every kernel defined so far.

    Kernels compile for the argument types of their first compiled call, so
    callers still run each once (``groove.warmup`` does); afterwards calls
    never run plain Python, in ``auto`` mode, since every kernel has its
    dispatcher.
    """
    global _compile_new
    with _lock:
        _compile_new = True
        for k in list(_registry):
            k.compile()


def _go_compiled():
    # Once numba is paid for, every kernel runs compiled: a job that is large
    # somewhere is large everywhere, and plain Python would be the slow part.
    global _compile_new
    _compile_new = True


def _work(args) -> int:
    n = 0
    for a in args:
        if type(a) is np.ndarray and a.ndim == 1 and a.shape[0] > n:
            n = a.shape[0]
    return n


def _global_names(code) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


class Kernel:
    """A numba kernel that runs as plain Python until compiled code is needed.

    Call it like the function; see the module docstring for when it runs
    compiled.  ``py_func`` is the function as written, ``compiled`` the numba
    dispatcher (compiling it on first access).
    """

    def __init__(self, func, signatures, options):
        functools.update_wrapper(self, func)
        self.py_func = func
        self._signatures = signatures
        self._options = options
        self._dispatcher = None
        self._plain = None
        with _lock:
            _registry.append(self)

    def compile(self):
        """The numba dispatcher, compiled (or loaded from the cache) on first use."""
        d = self._dispatcher
        if d is None:
            with _lock:
                if self._dispatcher is None:
                    import numba

                    jit = numba.njit(*self._signatures, **self._options)
                    self._dispatcher = jit(self.py_func)
                d = self._dispatcher
        return d

    compiled = property(compile, doc="The numba dispatcher (compiled on first access).")

    @property
    def _numba_type_(self):
        # numba asks for this when compiled code names the kernel: it is the dispatcher.
        from numba.core import types as nb_types

        return nb_types.Dispatcher(self.compile())

    def plain(self):
        """The Python function with the kernels it calls bound to their Python functions.

        Its globals are a copy of the module's taken now (numba, too, reads
        globals once, when it compiles).
        """
        f = self._plain
        if f is not None:
            return f
        with _lock:
            if self._plain is None:
                src = self.py_func
                env = dict(src.__globals__)
                f = types.FunctionType(
                    src.__code__, env, src.__name__, src.__defaults__, src.__closure__
                )
                f.__kwdefaults__ = src.__kwdefaults__
                self._plain = f  # first, so a kernel that calls itself resolves
                for name in _global_names(src.__code__):
                    value = env.get(name)
                    if isinstance(value, Kernel):
                        env[name] = value.plain()
            return self._plain

    def __call__(self, *args):
        d = self._dispatcher
        if d is not None and _mode != "never":
            return d(*args)
        if _mode == "always" or (_mode == "auto" and (_compile_new or _work(args) > SMALL_WORK)):
            _go_compiled()
            return self.compile()(*args)
        with np.errstate(all="ignore"):
            return self.plain()(*args)

    def __getattr__(self, name):
        # Only reached for attributes the wrapper lacks: the dispatcher's API.
        if name.startswith("__") or name in ("py_func", "_dispatcher", "_plain"):
            raise AttributeError(name)
        return getattr(self.compile(), name)

    def __repr__(self):
        state = "compiled" if self._dispatcher is not None else "plain"
        return f"<groove kernel {self.__qualname__} ({state})>"


def kernel(*args, **kwargs):
    """``numba.njit`` with the project's options, compiled lazily (see the module docstring).

    Use as ``@kernel`` or ``@kernel(signature, ..., option=value)``.
    """
    options = dict(OPTIONS, **kwargs)
    if args and callable(args[0]):
        return Kernel(args[0], (), options)
    return lambda func: Kernel(func, args, options)


_env_mode = os.environ.get("GROOVE_JIT", "").strip().lower()
if _env_mode:
    set_mode(_env_mode)
