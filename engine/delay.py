"""Old home of ``engine.host.delay``, kept so that plugins written for groove 0.1 still load.

Import from ``engine.host.delay``; this alias warns and will go in a later release.
"""

import sys
import warnings

from engine.host import delay as _moved

warnings.warn(
    "engine.delay moved to engine.host.delay; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
