"""Saved progress and history on disk: atomic, append-only, and forgiving of damage."""

from __future__ import annotations

import json
from pathlib import Path

from test_player_support import start, tiny_library

from skill.core.events import Command, RecordSession, SaveProgress
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
