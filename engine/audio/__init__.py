"""Audio: synthesis of the engine's note events and audio files.

Threads: the offline render's main thread today; whatever runs in a live
callback must follow the audio-thread rules (no allocation after prepare).
May import: ``groove``, ``engine.host``, ``engine.presets``, ``engine.atomic``.
"""
