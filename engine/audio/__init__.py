"""Audio: FluidSynth playing the engine's MIDI, offline into files and live per block.

``fluid`` binds libfluidsynth with ctypes; ``soundfont`` finds the SoundFont;
``_segments`` is the one numba kernel that renders a block in segments
between its events; ``render`` plays event rows into WAV/FLAC files;
``twin`` pairs two synths whose 64-frame grids are half a block apart (notes
to +-16 frames offline); ``live`` runs the kernel from an audio callback.

Threads: the offline render's main thread, or the audio callback (``live``:
no allocation and no compilation after the constructor).
May import: ``groove``, ``engine.host``, ``engine.presets``, ``engine.atomic``.
"""
