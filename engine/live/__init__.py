"""Live sessions: the session (engine + backend + status line), control (CC mapping,
file watching, hot reload), MIDI clock in and out, and the backends (JACK,
PortAudio + rtmidi) in ``engine.live.backends``.

Threads: the session, control and the backends' ``open``/``poll``/``close`` run on
the main thread, except file watching and reload parsing (the ``groove-watch``
thread, handing results over through a deque); the backends' process callbacks
run on the audio thread.
May import: ``groove``, ``engine.host``, ``engine.audio``, ``engine.presets``,
``engine.atomic``.
"""
