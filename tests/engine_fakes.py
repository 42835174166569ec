"""The barge-in and room hooks of the Engine protocol, for test engines that need none."""

from __future__ import annotations

from typing import Any


class NoHooks:
    """Nothing to do when the coach talks or plays, or the room changes; cutting the
    speech is a reset (a test engine keeps no room estimate)."""

    def reset(self) -> None: ...

    def coach_speaking(self, active: bool) -> None:
        return None

    def coach_audio(self, pcm: Any, rate: int) -> None:
        return None

    def forget_room(self) -> None:
        return None

    def cut_speech(self) -> None:
        self.reset()
