"""Standard MIDI Files: the SMF reader and writer, note tables, the direct renderer,
assembly of rendered files, the offline clock (files through the block engine) and
batches.

Threads: the main thread (and batch worker processes); nothing here is real-time.
May import: ``groove``, ``engine.host``, ``engine.audio``, ``engine.presets``,
``engine.atomic``.
"""
