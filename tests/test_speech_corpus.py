"""The synthetic corpus (skill.tools.speech_corpus) renders the same audio on every clone.

With Piper's random synthesis noise every fresh cache held different clips, and floors
measured on one clone failed on another; the corpus now renders deterministically and keys
its cache by the renderers' versions.
"""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from skill.tools import speech_corpus
from skill.tools.speech_corpus import PIPER_VARIANTS, PiperRenderer, cached, espeak, tool_versions


@pytest.mark.parametrize(("length_scale", "semitones"), PIPER_VARIANTS)
def test_a_piper_variant_renders_the_same_samples_twice(
    length_scale: float, semitones: float
) -> None:
    piper = PiperRenderer()
    render = [speech_corpus._piper_variant(piper, "Start desk break.", length_scale, semitones)]
    render.append(speech_corpus._piper_variant(piper, "Start desk break.", length_scale, semitones))
    assert np.array_equal(*render)


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng")
def test_an_espeak_voice_renders_the_same_samples_twice() -> None:
    voice, speed, pitch = speech_corpus.ESPEAK_VOICES[1]
    first = espeak("Start desk break.", voice, speed, pitch)
    assert np.array_equal(first, espeak("Start desk break.", voice, speed, pitch))


def test_the_cache_key_names_the_renderers_versions() -> None:
    assert f"piper-tts {version('piper-tts')}|" in tool_versions()
    assert ".onnx " in tool_versions()  # the voice model's file name and size


def test_a_clip_from_other_renderer_versions_is_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[int] = []

    def render() -> np.ndarray:
        renders.append(1)
        return np.zeros(160, dtype=np.int16)

    cached(tmp_path, "piper|Stop.|1.0|0.0", render)
    cached(tmp_path, "piper|Stop.|1.0|0.0", render)
    assert len(renders) == 1
    monkeypatch.setattr(speech_corpus, "tool_versions", lambda: "piper-tts 0.0|other.onnx 1|")
    cached(tmp_path, "piper|Stop.|1.0|0.0", render)
    assert len(renders) == 2
