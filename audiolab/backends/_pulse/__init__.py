"""Private parts of the PulseAudio / PipeWire backend (see :mod:`audiolab.backends.pulse`)."""
