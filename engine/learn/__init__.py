"""Learning grooves from recorded performances: reading performances, score
matching, grid assignment, robust per-lane fitting, extraction, analysis and
matching against presets.

Threads: the main thread only (offline analysis).
May import: ``groove``, ``engine.midi``, ``engine.host``, ``engine.presets``,
``engine.atomic``.
"""
