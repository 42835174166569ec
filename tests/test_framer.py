"""The endpointer's framing: a file's sound falls into the same frames whatever silence pads it."""

from __future__ import annotations

import numpy as np
import pytest

from skill.speech_in.framer import Framer, live_start

SIZE = 480


def sound(seconds: float = 0.5, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 900, int(seconds * 16000)).astype(np.int16)


def live_frames(pcm: np.ndarray, chunk: int = 1000) -> list[bytes]:
    """The frames with sound in them, fed in `chunk`-sample pieces as a microphone would."""
    framer = Framer(SIZE)
    frames = [f for i in range(0, len(pcm), chunk) for f in framer.frames(pcm[i : i + chunk])]
    return [frame.tobytes() for frame, _, silent in frames if not silent]


@pytest.mark.parametrize("lead", [1, 7, 31, 480, 16208, 16213])
def test_leading_silence_leaves_the_sounds_frames_as_they_are_bare(lead: int) -> None:
    clip = sound()
    padded = np.concatenate([np.zeros(lead, np.int16), clip, np.zeros(9000, np.int16)])
    assert live_frames(padded) == live_frames(np.concatenate([clip, np.zeros(9000, np.int16)]))


def test_the_frames_stand_for_every_sample_once() -> None:
    framer = Framer(SIZE)
    pcm = np.concatenate([np.zeros(16213, np.int16), sound(), np.zeros(700, np.int16), sound()])
    frames = framer.frames(pcm[:16000]) + framer.frames(pcm[16000:])
    assert all(len(frame) == SIZE for frame, _, _ in frames)
    assert sum(samples for _, samples, _ in frames) + len(framer._pending) == len(pcm)


def test_the_silence_before_sound_inside_a_frame_is_in_no_frame() -> None:
    """No frame of silence stands for less than a frame: the silence counts short, never long
    (a pause inside a phrase must not end it)."""
    framer = Framer(SIZE)
    frames = framer.frames(np.concatenate([np.zeros(500, np.int16), sound(0.1)]))
    (first, first_n, first_silent), (second, second_n, second_silent), third = frames[:3]
    assert (live_start(first), first_n, first_silent) == (SIZE, SIZE, True)
    # the sound's first frame stands for the 20 silent samples before it too
    assert (live_start(second), second_n, second_silent) == (0, SIZE + 20, False)
    assert (live_start(third[0]), third[1], third[2]) == (0, SIZE, False)


def test_a_room_that_is_never_digitally_silent_is_framed_on_a_fixed_grid() -> None:
    """A live microphone: the frames are the stream, cut every SIZE samples."""
    pcm = sound(1.0)
    framer = Framer(SIZE)
    frames = framer.frames(pcm[:777]) + framer.frames(pcm[777:])
    joined = b"".join(frame.tobytes() for frame, _, _ in frames)
    assert joined == pcm[: len(frames) * SIZE].tobytes()
    assert {samples for _, samples, _ in frames} == {SIZE}
    assert not any(silent for _, _, silent in frames)
