"""Old home of ``engine.host.events``, kept so that plugins written for groove 0.1 still load.

Import from ``engine.host.events``; this alias warns and will go in a later release.
"""

import sys
import warnings

from engine.host import events as _moved

warnings.warn(
    "engine.events moved to engine.host.events; import it from there",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
