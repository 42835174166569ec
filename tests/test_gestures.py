"""The pure gesture detector, driven with explicit times (no sleeping)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skill.core.gestures import Gesture, GestureDetector, gesture_to_command

Edges = Sequence[tuple[float, bool]]


def run(edges: Edges, until: float, det: GestureDetector | None = None) -> list[Gesture]:
    """Feed edges in time order, calling poll at every deadline the detector asks for."""
    det = det or GestureDetector()
    out: list[Gesture] = []
    for t, pressed in [*edges, (until, None)]:
        while (deadline := det.next_deadline()) is not None and deadline <= t:
            out += det.poll(deadline)
        if pressed is not None:
            out += det.edge(pressed, t)
    return out


def press(at: float, length: float) -> list[tuple[float, bool]]:
    return [(at, True), (at + length, False)]


def bouncy(at: float, pressed: bool, n: int = 3, gap: float = 0.004) -> list[tuple[float, bool]]:
    """A contact that chatters n times within a few ms before settling on `pressed`."""
    edges = []
    for i in range(n):
        edges += [(at + 2 * i * gap, pressed), (at + (2 * i + 1) * gap, not pressed)]
    return [*edges, (at + 2 * n * gap, pressed)]


def test_short_press_fires_once_the_double_window_has_passed() -> None:
    det = GestureDetector()
    assert det.edge(True, 1.0) == [] and det.edge(False, 1.2) == []
    assert det.next_deadline() == pytest.approx(1.6)
    assert det.poll(1.55) == []
    assert det.poll(1.61) == [Gesture.SHORT]
    assert det.next_deadline() is None


def test_double_press() -> None:
    assert run(press(0, 0.1) + press(0.3, 0.1), until=5) == [Gesture.DOUBLE]


def test_two_presses_further_apart_are_two_shorts() -> None:
    assert run(press(0, 0.1) + press(0.7, 0.1), until=5) == [Gesture.SHORT, Gesture.SHORT]


def test_long_press_fires_while_still_held_and_release_adds_nothing() -> None:
    det = GestureDetector()
    det.edge(True, 10.0)
    assert det.next_deadline() == pytest.approx(12.0)
    assert det.poll(11.9) == []
    assert det.poll(12.0) == [Gesture.LONG]
    assert det.pressed
    assert det.edge(False, 15.0) == []
    assert det.next_deadline() is None


def test_a_press_just_under_two_seconds_is_short() -> None:
    assert run(press(0, 1.9), until=5) == [Gesture.SHORT]


def test_short_then_long_inside_the_window_is_only_stop() -> None:
    assert run(press(0, 0.1) + press(0.3, 2.5), until=5) == [Gesture.LONG]


def test_late_poll_still_reports_a_long_press_on_release() -> None:
    det = GestureDetector()
    det.edge(True, 0.0)
    assert det.edge(False, 2.5) == [Gesture.LONG]


def test_bounce_on_press_and_release_is_one_short_press() -> None:
    edges = bouncy(0.0, True) + bouncy(0.3, False)
    assert run(edges, until=5) == [Gesture.SHORT]


def test_bouncy_double_press_is_one_double() -> None:
    edges = bouncy(0.0, True) + bouncy(0.12, False) + bouncy(0.35, True) + bouncy(0.45, False)
    assert run(edges, until=5) == [Gesture.DOUBLE]


def test_a_single_glitch_shorter_than_debounce_then_settled_level_is_taken() -> None:
    """Edges inside the lock-out are ignored, but the level they leave is taken afterwards."""
    det = GestureDetector()
    det.edge(True, 0.0)
    det.edge(False, 0.01)  # inside the lock-out: ignored for now
    assert det.pressed
    assert det.next_deadline() == pytest.approx(0.03)
    det.poll(0.03)
    assert not det.pressed  # the settled level was taken when the lock-out ended


def test_lost_release_repaired_from_the_level_gives_no_command() -> None:
    det = GestureDetector()
    det.edge(True, 0.0)
    assert det.poll(2.0, level=False) == []  # the release edge never came: unsure, so nothing
    assert not det.pressed
    assert run(press(3, 0.1), until=5, det=det) == [Gesture.SHORT]


def reference(presses: list[tuple[float, float]]) -> list[Gesture]:
    """The rules read straight off the issue, one press at a time (start, end)."""
    out: list[Gesture] = []
    tap_end: float | None = None
    for start, end in presses:
        if tap_end is not None and start >= tap_end + 0.4:
            out.append(Gesture.SHORT)
            tap_end = None
        second, tap_end = tap_end is not None, None
        if end >= start + 2.0:
            out.append(Gesture.LONG)
        elif second:
            out.append(Gesture.DOUBLE)
        else:
            tap_end = end
    return out + ([Gesture.SHORT] if tap_end is not None else [])


@given(st.lists(st.tuples(st.floats(0.05, 3.0), st.floats(0.05, 3.0)), min_size=1, max_size=6))
def test_any_clean_press_sequence_matches_the_rules(
    gaps_and_lengths: list[tuple[float, float]],
) -> None:
    presses, t = [], 0.0
    for gap, length in gaps_and_lengths:
        presses.append((t + gap, t + gap + length))
        t += gap + length
    edges = [e for start, end in presses for e in press(start, end - start)]
    assert run(edges, until=t + 5) == reference(presses)


@pytest.mark.parametrize(
    ("gesture", "mode", "name"),
    [
        (Gesture.SHORT, "running", "pause"),
        (Gesture.SHORT, "paused", "resume"),
        (Gesture.SHORT, "idle", "start"),
        (Gesture.DOUBLE, "running", "next"),
        (Gesture.DOUBLE, "paused", "next"),
        (Gesture.LONG, "running", "stop"),
        (Gesture.LONG, "paused", "stop"),
    ],
)
def test_gesture_to_command(gesture: Gesture, mode: str, name: str) -> None:
    command = gesture_to_command(gesture, mode)
    assert (command.name, command.source, dict(command.args)) == (name, "button", {})
