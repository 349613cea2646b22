"""The one place that sets numba's options for every kernel of the project.

``cache=True`` writes compiled machine code next to the sources (or into
NUMBA_CACHE_DIR) so a second process loads it instead of compiling;
``nogil=True`` lets an audio thread run a kernel while Python threads go on;
``error_model='numpy'`` keeps division by zero from raising inside a kernel
(an audio callback must never raise); fastmath stays off because the inverse
relies on exact IEEE comparisons at segment ends.
"""

import numba

OPTIONS = dict(cache=True, nogil=True, error_model="numpy", fastmath=False)


def kernel(*args, **kwargs):
    """``numba.njit`` with the project's options (decorator, with or without signature)."""
    options = dict(OPTIONS, **kwargs)
    if args and callable(args[0]):
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)
