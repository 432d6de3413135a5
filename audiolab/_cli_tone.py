"""``audiolab tone FREQ``: play one test tone through a session of its own and meter it."""

from __future__ import annotations

import argparse

from ._cli_common import DEFAULT_BACKEND, CliError, add_backend_option, number, writable_file
from .model import Role

WAVES = ("sine", "square", "sawtooth", "triangle", "white", "pink")
EXAMPLES = """\
examples:
  audiolab tone 440                                  # 2 s of A4, on a real server if one answers
  audiolab tone 880 --role navigation --app Maps --seconds 3
  audiolab tone 440 --wav a4.wav                     # the simulated service's mix, written to a file
"""


COMMANDS = ("tone",)
"""The subcommands :func:`add_parsers` registers (the CLI builds only the group of the command it runs)."""


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``tone``."""
    tone = commands.add_parser(
        "tone", help="play a test tone through a session of its own", epilog=EXAMPLES,
        description="Play a synthesized test tone through a session of its own and print its peak meter.")
    tone.add_argument("frequency", type=number(low=0), metavar="FREQ",
                      help="frequency in Hz (below half the 48 kHz sample rate)")
    tone.add_argument("--wave", default="sine", choices=WAVES, help="the waveform (default sine)")
    tone.add_argument("--amplitude", type=number(low=0, high=1, low_open=False), default=0.5,
                      metavar="A", help="linear peak, 0..1 (default 0.5)")
    tone.add_argument("--seconds", type=number(low=0, high=86400), default=2.0, metavar="S",
                      help="how long it plays (default 2)")
    tone.add_argument("--role", default="music", choices=[r.value for r in Role],
                      help="the stream's role, which focus policies act on (default music)")
    tone.add_argument("--app", default="audiolab tone", metavar="NAME",
                      help="the app name its session shows (default 'audiolab tone')")
    add_backend_option(tone, default=None)
    tone.add_argument("--wav", default=None, metavar="FILE",
                      help="write the simulated service's mix to this .wav file (implies --backend sim; its "
                           "folder must exist)")
    tone.set_defaults(run=run)


def build_tone(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The tone that ``args`` ask for."""
    from . import tones

    if args.wave in ("white", "pink"):
        maker = tones.white_noise if args.wave == "white" else tones.pink_noise
        return maker(amplitude=args.amplitude, seed=1)
    return getattr(tones, args.wave)(args.frequency, amplitude=args.amplitude)


async def run(args: argparse.Namespace) -> int:
    """Play the tone; print the session it played in and its loudest meter reading."""
    from . import open as open_lab

    backend = args.backend or ("sim" if args.wav is not None else DEFAULT_BACKEND)
    options = {}
    if args.wav is not None:
        if backend != "sim":
            raise CliError("--wav writes the simulated service's mix: it needs --backend sim")
        options["output"] = str(writable_file(args.wav, suffixes=(".wav",)))
    try:
        tone = build_tone(args)
        tone.render(48000, 2)  # validates the frequency against the Nyquist limit before anything opens
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from None
    async with open_lab(backend, **options) as lab:
        async with lab.meters(rate=10) as frames, lab.play(
            tone, role=Role(args.role), app=args.app, duration=args.seconds
        ) as playback:
            print(f"playing {tone.describe()} as {args.app!r} ({args.role}) in session {playback.session_id} "
                  f"on the {lab.backend_name} backend")
            loudest = 0.0
            async for frame in frames:
                loudest = max(loudest, frame.peaks.get(playback.session_id, 0.0))
                if playback.finished:
                    break
            print(f"done: peak meter {loudest:.3f}")
    if args.wav is not None:
        print(f"wrote {args.wav}")
    return 0
