"""Saved progress and history on disk: atomic, append-only, and forgiving of damage."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from test_player_support import start, tiny_library

from skill.core.events import Action, Command, RecordSession, SaveProgress
from skill.core.simulate import Simulation
from skill.service.progress import ProgressStore

SNAP = {"routine": "tiny", "beat": 3, "step": 0, "side": "left", "rep": 1, "remaining": 4.5}


def test_save_then_load_round_trips_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "state")
    assert store.load_saved() is None
    store.apply(SaveProgress(SNAP))
    store.apply(SaveProgress({**SNAP, "beat": 4}))
    assert store.load_saved() == {**SNAP, "beat": 4}
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["state.json"]
    store.apply(SaveProgress(None))
    assert store.load_saved() is None
    assert not store.state_path.exists()


def test_a_corrupt_state_file_is_set_aside_and_reported(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path, wall=lambda: 1_700_000_000.0)
    store.state_path.write_bytes(b'{"routine": "tiny", "beat"')
    assert store.load_saved() is None
    aside = tmp_path / "state.json.corrupt-20231114T221320"
    assert aside.read_bytes() == b'{"routine": "tiny", "beat"'
    assert not store.state_path.exists()
    assert store.messages and "moved it to state.json.corrupt-" in store.messages[0]
    store.state_path.write_text("[1, 2]")
    assert store.load_saved() is None
    assert "expected an object" in store.messages[-1]
    store.state_path.write_bytes(b"\xff\xfe")
    assert store.load_saved() is None


def test_an_unusable_session_is_set_aside_not_deleted(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path, wall=lambda: 1_700_000_000.0)
    store.apply(SaveProgress(SNAP))
    kept = store.state_path.read_bytes()
    store.apply(SaveProgress(None, set_aside="routine 'tiny' is not in the library"))
    assert not store.state_path.exists()
    aside = tmp_path / "state.json.unusable-20231114T221320"
    assert aside.read_bytes() == kept
    assert "routine 'tiny' is not in the library" in store.messages[-1]
    assert "state.json.unusable-20231114T221320" in store.messages[-1]
    store.apply(SaveProgress(None, set_aside="again"))  # nothing left to move: no error
    assert aside.read_bytes() == kept


def test_a_session_of_a_routine_now_skipped_is_kept_aside_on_resume(tmp_path: Path) -> None:
    """A custom routine whose file now has a typo is skipped by the loader: keep its session."""
    store = ProgressStore(tmp_path, wall=lambda: 1_700_000_000.0)
    store.apply(SaveProgress({**SNAP, "routine": "my_routine", "saved_at": 1_700_000_000.0}))
    kept = store.state_path.read_bytes()
    sim = Simulation(tiny_library(), saved=store.load_saved(), wall_start=1_700_000_000.0)
    for action in sim.send(Command("resume")):
        if isinstance(action, SaveProgress | RecordSession):
            store.apply(action)
    assert not store.state_path.exists()
    assert (tmp_path / "state.json.unusable-20231114T221320").read_bytes() == kept
    assert "routine 'my_routine' is not in the library" in store.messages[-1]
    assert "stretch-coach check" in store.messages[-1]


def test_history_is_appended_and_survives_a_torn_last_line(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    store.apply(RecordSession({"routine": "tiny", "finished": True}))
    first = store.history_path.read_bytes()
    with store.history_path.open("ab") as f:
        f.write(b'{"routine": "tiny", "fini')  # power cut mid-write
    assert store.history() == [{"routine": "tiny", "finished": True}]
    store.apply(RecordSession({"routine": "other", "finished": False}))
    assert store.history_path.read_bytes().startswith(first)  # never rewritten
    assert store.history() == [
        {"routine": "tiny", "finished": True},
        {"routine": "other", "finished": False},
    ]


def test_a_real_session_saves_and_records_through_the_store(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    sim = Simulation(tiny_library())
    start(sim)
    sim.advance_to(60.0)
    for action in sim.actions:
        if isinstance(action, SaveProgress | RecordSession):
            store.apply(action)
    saved = store.load_saved()
    assert saved is not None and saved["routine"] == "tiny"
    json.dumps(saved)
    sim.send(Command("stop"))
    for action in sim.actions:
        if isinstance(action, RecordSession):
            store.apply(action)
    assert [r["outcome"] for r in store.history()] == ["stopped"]


def test_a_disk_that_refuses_writes_is_reported_once_and_the_session_goes_on(
    tmp_path: Path,
) -> None:
    """A full disk or an SD card gone read-only must not end the routine: the coach keeps
    coaching, and says once where it cannot save."""
    store = ProgressStore(tmp_path)
    store.state_path.mkdir()  # stands in for any write that fails
    store.history_path.mkdir()
    for beat in range(3):
        store.apply(SaveProgress({**SNAP, "beat": beat}))
    store.apply(RecordSession({"routine": "tiny", "started_at": 1.0, "ended_at": 2.0}))
    store.apply(SaveProgress(None))
    assert len([m for m in store.messages if "cannot save where you are" in m]) == 1
    assert len([m for m in store.messages if "cannot add this session" in m]) == 1
    assert str(store.state_path) in store.messages[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.jsonl", "state.json"]
    assert store.history() == []
    assert any("cannot read" in m for m in store.messages)


def carry_out(store: ProgressStore, actions: Iterable[Action]) -> None:
    for action in actions:
        if isinstance(action, SaveProgress | RecordSession):
            store.apply(action)


def refuse_new_data(monkeypatch: pytest.MonkeyPatch, code: int, removal: bool = False) -> None:
    """The disk takes no new data: no file is created or appended to, though one can still be
    written over within the space it has (a full disk); `removal`: nor is any file removed
    (a folder gone read-only). Tests run as root, whom chmod does not stop."""
    real_open, real_unlink = Path.open, Path.unlink

    def refused(path: Path) -> OSError:
        return OSError(code, os.strerror(code), str(path))

    def open_(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+"):
            raise refused(self)
        return real_open(self, mode, *args, **kwargs)

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if removal and self.exists():
            raise refused(self)
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "open", open_)
    monkeypatch.setattr(Path, "unlink", unlink)


def finish_on_a_refusing_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, removal: bool = False
) -> ProgressStore:
    """A service's store: a routine saved midway, then finished once the disk refuses."""
    store = ProgressStore(tmp_path)
    assert store.load_saved() is None  # as the service starts
    sim = Simulation(tiny_library())
    start(sim)
    sim.advance_to(60.0)
    carry_out(store, sim.actions)
    assert store.load_saved() is not None
    done = len(sim.actions)
    refuse_new_data(monkeypatch, code, removal)
    sim.run()
    assert sim.player.mode == "idle"
    carry_out(store, sim.actions[done:])
    return store


def test_a_full_disk_keeps_the_finished_session_until_the_history_takes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: with the disk full the history append failed (Errno 28) and state.json was then
    removed anyway: the finished session was gone."""
    with monkeypatch.context() as full:
        store = finish_on_a_refusing_disk(tmp_path, full, errno.ENOSPC)
        restarted = ProgressStore(tmp_path)
        assert restarted.load_saved() is None  # nothing to resume: it was finished
        assert restarted.history() == []
    freed = ProgressStore(tmp_path)  # space freed: the next start adds it
    assert freed.load_saved() is None
    assert [(r["outcome"], r["routine"]) for r in freed.history()] == [("finished", "tiny")]
    assert not freed.state_path.exists()
    assert ProgressStore(tmp_path).load_saved() is None
    assert len(ProgressStore(tmp_path).history()) == 1  # added once
    refused = [m for m in store.messages if "cannot add this session" in m]
    assert len(refused) == 1 and "No space left on device" in refused[0]
    assert f"kept in {store.state_path}" in refused[0]


def test_a_read_only_folder_never_offers_the_finished_session_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: the history write failed and state.json could not be removed: the next start
    offered to resume the finished session."""
    with monkeypatch.context() as read_only:
        finish_on_a_refusing_disk(tmp_path, read_only, errno.EROFS, removal=True)
        restarted = ProgressStore(tmp_path)
        saved = restarted.load_saved()
        assert Simulation(tiny_library(), saved=saved).player.resumable_routine() is None
        assert saved is None
        assert [r["outcome"] for r in restarted.records()] == ["finished"]  # `history` shows it
        assert any("still cannot be added" in m for m in restarted.messages)
    writable = ProgressStore(tmp_path)
    assert writable.load_saved() is None
    assert [r["outcome"] for r in writable.history()] == ["finished"]


def test_a_session_kept_for_the_history_is_added_at_the_next_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as full:
        store = finish_on_a_refusing_disk(tmp_path, full, errno.ENOSPC)
        trouble = store.trouble()
        assert trouble is not None and f"kept in {store.state_path}" in trouble
    store.apply(SaveProgress({**SNAP, "saved_at": 1.0}))
    assert [r["outcome"] for r in store.history()] == ["finished"]
    assert store.load_saved() == {**SNAP, "saved_at": 1.0}
    assert store.trouble() is None


def test_a_disk_that_takes_nothing_says_what_is_lost(tmp_path: Path) -> None:
    """Nothing can be written at all: the stop must not claim progress was saved, and the
    session the history did not take goes into the log, the one place left for it."""
    store = ProgressStore(tmp_path)
    assert store.load_saved() is None
    store.state_path.mkdir()
    store.history_path.mkdir()
    record = {"routine": "tiny", "started_at": 1.0, "ended_at": 2.0, "finished": True}
    store.apply(RecordSession(record))
    store.apply(SaveProgress(None))
    trouble = store.trouble()
    assert trouble is not None and trouble.startswith("cannot save where you are in ")
    assert "1 session the history could not take, lost: " in trouble
    assert json.dumps([record], sort_keys=True) in trouble
