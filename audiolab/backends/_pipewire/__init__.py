"""A native PipeWire meter path: per-stream peak meters as PipeWire capture streams of audiolab's own, outside
pipewire-pulse (see :mod:`.meter`)."""
