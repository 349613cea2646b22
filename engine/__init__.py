"""engine: everything around the maths in ``groove``, one subpackage per concern.

``host`` (events, processors, the block engine), ``midi`` (files), ``audio``,
``live`` (sessions and backends), ``presets`` (the YAML format), ``learn``
(grooves from recordings) and ``cli`` (the commands), in the dependency order
written in ``pyproject.toml`` (import-linter).  ``atomic`` is shared by all.
See ``docs/architecture.md``.
"""
