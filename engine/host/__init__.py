"""The block host: events, processors, racks, delay lines, the timeline scheduler,
transport, tempo maps and the ``Engine`` that runs one block.

Threads: ``Engine.prepare`` and rack building run on the main thread; ``Engine.process``
(and every processor's ``process``) runs on the audio thread, allocation-free after
``prepare``.  No I/O here besides reading rack files in ``rack_file``.
May import: ``groove``, ``engine.presets``, ``engine.atomic``.
"""
