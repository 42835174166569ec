"""`stretch-coach say TEXT`: speak through the configured speaker, or write a WAV file."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from skill.errors import UserError
from skill.hardware.wav import write_wav


def register(sub: Any) -> None:
    p = sub.add_parser("say", help="speak a text (or write it to a WAV file with --out)")
    p.add_argument("text", help="what to say")
    p.add_argument("--out", type=Path, metavar="FILE.wav", help="write a WAV file instead")
    p.add_argument("--voice", type=Path, metavar="PATH", help="Piper voice .onnx file")
    p.add_argument("--length-scale", type=float, metavar="X", help="pace: higher is slower")
    p.add_argument("--no-cache", action="store_true", help="do not read or fill the phrase cache")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> Any:
    from skill.config import load_settings

    voice = str(args.voice) if args.voice else None
    return load_settings(overrides={"voice": voice, "length_scale": args.length_scale})


def run(args: argparse.Namespace) -> int:
    from skill.hardware.playback import AudioOutput
    from skill.service import wiring
    from skill.speech_out.speaker import Speaker, render

    if not args.text.strip():
        raise UserError("nothing to say: give a non-empty TEXT")
    if args.out and args.out.suffix.lower() != ".wav":
        raise UserError(f"--out {args.out}: give a file name ending in .wav")
    settings = _settings(args)
    voice = wiring.open_voice(settings)
    cache = None if args.no_cache else wiring.open_phrase_cache(settings, voice)
    if args.out:
        pcm, rate = render(voice, cache, args.text)
        if not len(pcm):
            raise UserError(nothing_to_speak(args.text))
        write_wav(args.out, pcm, rate)
        print(f"wrote {args.out} ({len(pcm) / rate:.1f} s at {rate} Hz)")
        return 0
    done, sounded = threading.Event(), threading.Event()
    with AudioOutput(settings.output_device, volume=settings.volume) as output:
        speaker = Speaker(
            voice,
            cache,
            output,
            on_done=lambda _uid: done.set(),
            on_audio_start=lambda _uid: sounded.set(),
        )
        speaker.say(args.text, 1)
        while not done.wait(0.2):
            pass
    # Nothing reached the speaker: find out (rarely, so rendering again costs nothing) whether
    # the text was why, rather than rendering every text before it may start playing.
    if not sounded.is_set() and not len(render(voice, cache, args.text)[0]):
        raise UserError(nothing_to_speak(args.text))
    return 0


def nothing_to_speak(text: str) -> str:
    """Piper says nothing for text without words ("...", "?!"): a silent 0 s result is no
    answer to "say this"."""
    return f"nothing to speak: the voice says nothing for {text!r}"
