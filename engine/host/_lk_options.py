"""numba options of the live kernel, and a cache that notices edits to any kernel file.

numba's on-disk cache keys a compiled function on its own source file only:
``process_block`` compiles in every function it calls from the other
``_lk_*`` modules, so after an edit to one of those its cached machine code
would be stale and still be loaded.  The locator registered here stamps
every kernel function's cache entry with all the kernel files' stamps, so
an edit to any of them recompiles the lot (once; the cache is warm again
after ``LiveKernel.prepare``).
"""

from pathlib import Path

from numba.core import caching

try:
    from groove._numba import OPTIONS as _PROJECT
except ImportError:  # pragma: no cover - the project's options moved
    _PROJECT = {}

#: The project's numba options (groove/_numba.py), with what the audio thread needs.
OPTIONS = {**dict(cache=True, error_model="numpy", fastmath=False), **_PROJECT, "nogil": True}

_HERE = Path(__file__).resolve().parent
_EXTRA = ("ring.py", "live_layout.py")


def _kernel_files():
    return sorted(p for p in _HERE.glob("_lk_*.py")) + [_HERE / name for name in _EXTRA]


def _stamp():
    stamps = []
    for path in _kernel_files():
        try:
            st = path.stat()
        except OSError:
            continue
        stamps.append((path.name, st.st_mtime_ns, st.st_size))
    return tuple(stamps)


class _KernelLocator(caching._CacheLocator):
    """numba's usual cache location, with a stamp over every kernel file."""

    @classmethod
    def from_function(cls, py_func, py_file):
        path = Path(py_file).resolve() if py_file else None
        if path is None or path not in _kernel_files():
            return None
        for other in caching.CacheImpl._locator_classes:
            if other is cls:
                continue
            locator = other.from_function(py_func, py_file)
            if locator is not None:
                own = locator.get_source_stamp
                locator.get_source_stamp = lambda own=own: (own(), _stamp())
                return locator
        return None


if _KernelLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, _KernelLocator)

__all__ = ["OPTIONS"]
