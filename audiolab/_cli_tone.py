"""``audiolab tone FREQ``: play one test tone through a session of its own and meter it."""

from __future__ import annotations

import argparse
import math

from .model import Role

WAVES = ("sine", "square", "sawtooth", "triangle", "white", "pink")


def add_parser(commands: argparse._SubParsersAction, backends: tuple[str, ...]) -> None:
    tone = commands.add_parser("tone", help="play a test tone through a session of its own")
    tone.add_argument("frequency", type=float, metavar="FREQ", help="frequency in Hz")
    tone.add_argument("--wave", default="sine", choices=WAVES)
    tone.add_argument("--amplitude", type=float, default=0.5, help="linear peak, 0..1 (default 0.5)")
    tone.add_argument("--seconds", type=float, default=2.0)
    tone.add_argument("--role", default="music", choices=[r.value for r in Role])
    tone.add_argument("--app", default="audiolab tone")
    tone.add_argument("--backend", default="sim", choices=backends)
    tone.add_argument("--wav", default=None, help="simulated service: also write the mix to this WAV file")


def build_tone(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from . import tones

    if not (math.isfinite(args.seconds) and args.seconds > 0):
        raise SystemExit("audiolab tone: --seconds must be a positive number")
    if args.wave in ("white", "pink"):
        maker = tones.white_noise if args.wave == "white" else tones.pink_noise
        return maker(amplitude=args.amplitude, seed=1)
    return getattr(tones, args.wave)(args.frequency, amplitude=args.amplitude)


async def run(args: argparse.Namespace) -> int:
    from . import open as open_lab

    try:
        tone = build_tone(args)
        tone.render(48000, 2)  # validates the frequency against the Nyquist limit before anything opens
    except (ValueError, TypeError) as exc:
        raise SystemExit(f"audiolab tone: {exc}") from None
    options = {}
    if args.wav is not None:
        if args.backend != "sim":
            raise SystemExit("audiolab tone: --wav works with --backend sim only")
        options["output"] = args.wav
    async with open_lab(args.backend, **options) as lab:
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
