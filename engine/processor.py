"""Old home of ``engine.host.processor``, kept so that plugins written for groove 0.1 still load.

Import from ``engine.host.processor``; this alias warns and will go in a later release.
"""

import sys
import warnings

from engine.host import processor as _moved

warnings.warn(
    "engine.processor moved to engine.host.processor; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
