"""A Tone round-trips through the data the tone child processes receive (issue 16 item 7)."""

from __future__ import annotations

import json

import pytest

from audiolab.tones import Tone, beeps, dtmf, pink_noise, ring, sawtooth, sine, square, sweep, triangle, white_noise

BUILT = [
    sine(440, 0.5, pan=-0.5, fade_in=0.1, fade_out=0.1, duration=1.0, frequency2=660),
    square(220, amplitude_db=-6), sawtooth(330), triangle(110, 0.25),
    white_noise(0.3, seed=7), pink_noise(0.2, seed=3, duration=2.0),
    sweep(100, 1000, 2.0), sweep(100, 1000, 2.0, repeat=True),
    dtmf("123#", on=0.05, off=0.05), beeps(sine(1000), 0.1, 0.4, count=3), ring(cadence="uk"),
]


@pytest.mark.parametrize("tone", BUILT, ids=lambda t: t.describe())
def test_every_builder_round_trips_through_json(tone: Tone) -> None:
    data = json.loads(json.dumps(tone.to_dict()))  # as the player's spec carries it
    back = Tone.from_dict(data)
    assert back == tone and back.describe() == tone.describe()
    assert isinstance(back.cadence, tuple)


def test_bad_tone_data_is_refused() -> None:
    with pytest.raises(ValueError, match="not fields of a Tone: colour"):
        Tone.from_dict({**sine(440).to_dict(), "colour": "red"})
    with pytest.raises(TypeError, match="mapping"):
        Tone.from_dict(["sine"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="frequency must be > 0 Hz"):
        Tone.from_dict({**sine(440).to_dict(), "frequency": -1.0})


@pytest.mark.parametrize(("fields", "message"), [
    ({"waveform": "sine", "frequency": -1.0}, "frequency must be > 0 Hz"),
    ({"waveform": "white", "frequency": -1.0}, "frequency must be >= 0 Hz"),
    ({"waveform": "square", "frequency2": 500.0}, "only supported for sine"),
    ({"waveform": "pink", "frequency": 0.0, "frequency2": 500.0}, "only supported for sine"),
    ({"waveform": "sine", "frequency2": -5.0}, "frequency2 must be > 0 Hz"),
    ({"waveform": "sweep", "sweep_seconds": 1.0}, "sweep_end"),
    ({"waveform": "sweep", "sweep_end": 900.0}, "sweep_seconds"),
    ({"waveform": "dtmf", "frequency": 0.0, "digits": "12x"}, "not DTMF keys"),
    ({"waveform": "dtmf", "frequency": 0.0, "digits": "1", "digit_on": 0.0}, "digit_on"),
    ({"waveform": "buzz"}, "waveform must be one of"),
])
def test_each_waveform_checks_its_own_fields(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Tone(**fields)  # type: ignore[arg-type]
