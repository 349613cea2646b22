"""engine: events, processors, the block scheduler, clocks and backends, MIDI I/O, CLI."""
