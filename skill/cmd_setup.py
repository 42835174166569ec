"""`stretch-coach setup`: everything that needs time or internet, done once, before coaching.

It installs the English Vosk model (download on a Pi with internet, or from a zip copied
by hand), optionally another Piper voice, and renders every phrase the coach can say into
the cache, because a Pi 4 synthesizes slower than real time.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skill.cli import UserError


def register(sub: Any) -> None:
    p = sub.add_parser("setup", help="install the English model, a voice, and pre-render phrases")
    p.add_argument("--model-zip", type=Path, help="install the Vosk model from this zip")
    p.add_argument("--skip-model", action="store_true", help="leave the speech model alone")
    p.add_argument("--voice", help="download this catalogue voice (see voices/README.md)")
    p.add_argument("--skip-render", action="store_true", help="do not pre-render phrases")
    p.add_argument("--config", type=Path, help="config file for voice, pace and cache size")
    p.set_defaults(func=run)


def install_model(zip_path: Path | None) -> str:
    from skill import paths
    from skill.download import install_english_model, install_model_zip
    from skill.recognizer import default_model_dir

    if zip_path is not None:
        if not zip_path.is_file():
            raise UserError(f"{zip_path}: no such file")
        return f"model installed in {install_model_zip(zip_path, paths.data_dir())}"
    if default_model_dir().is_dir():
        return f"English model already installed in {default_model_dir()}"
    return f"model installed in {install_english_model(paths.data_dir())}"


def render_phrases(settings: Any, voice_path: Path | None) -> str:
    from skill.loader import load_library
    from skill.phrase_cache import PhraseCache, default_dir
    from skill.phrases import all_phrases
    from skill.voice import load_voice

    voice = load_voice(voice_path, settings.length_scale)
    cache = PhraseCache(
        default_dir(), voice.key, voice.length_scale, settings.cache_cap_mb << 20, voice.sample_rate
    )
    phrases = sorted(all_phrases(load_library().library))
    done = cache.render_missing(phrases, voice.synthesize)
    return f"{len(phrases)} phrases ready in {default_dir()} ({done} rendered now)"


def run(args: argparse.Namespace) -> int:
    from skill import paths
    from skill.config import ConfigError, load_settings
    from skill.voice import download_voice

    try:
        settings = load_settings(explicit=args.config)
    except ConfigError as err:
        raise UserError(str(err)) from err
    failed: list[str] = []
    if not args.skip_model:
        try:
            print(install_model(args.model_zip))
        except UserError as err:  # keep going: the voice and phrases work offline
            failed.append(f"speech model: {err}")
    voice_path = Path(settings.voice) if settings.voice else None
    if args.voice:
        voice_path = download_voice(args.voice, paths.data_dir() / "voices")
        print(f"voice installed: {voice_path}; set `voice: {voice_path}` in config.yaml")
    if not args.skip_render:
        print(render_phrases(settings, voice_path))
    for problem in failed:
        print(f"not done: {problem}")
    return 1 if failed else 0
