"""The noise floor that lets the fallback's endpointer hear the end of a command."""

from __future__ import annotations

import numpy as np

from skill.speech_in.noise_floor import NoiseFloor, frame_count, frame_db


def test_frame_level_in_db() -> None:
    assert frame_db(np.zeros(480, dtype=np.int16)) == 0.0
    assert abs(frame_db(np.full(480, 1000, dtype=np.int16)) - 60.0) < 0.01


def test_hiss_is_quiet_and_speech_over_it_is_loud() -> None:
    rng = np.random.default_rng(0)
    floor = NoiseFloor(margin_db=9.0)
    hiss = [frame_db(rng.normal(0, 20, 480).astype(np.int16)) for _ in range(100)]
    assert not any(floor.loud(level) for level in hiss)  # about 26 dB, every frame
    assert floor.loud(frame_db(rng.normal(0, 2000, 480).astype(np.int16)))
    assert 25 < floor.floor_db < 28


def test_the_floor_follows_the_room_up_and_down() -> None:
    floor = NoiseFloor(window_s=1.5)  # 50 frames
    for _ in range(50):
        floor.loud(60.0)  # a loud fan
    assert floor.floor_db == 60.0 and not floor.loud(65.0)
    for _ in range(50):
        floor.loud(20.0)  # switched off
    assert floor.floor_db == 20.0 and floor.loud(65.0)


def test_the_window_in_seconds_is_the_200_frames_it_was() -> None:
    assert NoiseFloor().window == 200
    assert NoiseFloor(window_s=1.5).window == 50
    assert frame_count(0.36) == 12 and frame_count(0.15) == 5


def test_snr_of_a_segment_is_its_loud_part_over_the_floor() -> None:
    floor = NoiseFloor()
    for _ in range(20):
        floor.loud(30.0)
    levels = [30.0] * 5 + [80.0] * 5
    assert abs(floor.snr_db(levels) - 50.0) < 1e-6
    assert floor.snr_db([]) == 0.0


def test_digital_silence_does_not_set_the_floor() -> None:
    """A recording padded with exact zeros has the room its own quiet parts say."""
    rng = np.random.default_rng(1)
    room = [frame_db(rng.normal(0, 30, 480).astype(np.int16)) for _ in range(40)]
    alone, padded = NoiseFloor(), NoiseFloor()
    for level in room:
        alone.loud(level)
    for _ in range(60):
        padded.loud(frame_db(np.zeros(480, dtype=np.int16)), digital_silence=True)
    for level in room:
        padded.loud(level)
    assert padded.floor_db == alone.floor_db > 25
