"""The service's own wiring in-process, with fakes of its seams (engine, speaker, button, LED).

What is checked here is the service's part: a hearing goes through its listening step and
echo gate to the player, and the player's actions reach the speaker and the LED through its
router. The real path (PortAudio through the ALSA file device, real engines, systemd
notify) is covered by the subprocess tests in test_service.py and test_service_e2e.py.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from skill.config import DEFAULTS
from skill.core.events import Command, LedState, RecordSession, SaveProgress, SetLed, Speak
from skill.service.service import Devices, Service
from skill.speech_in.asr import Hearing
from tests.engine_fakes import NoHooks
from tests.test_player_support import saved_session

CHUNK = np.zeros(320, dtype=np.int16)  # 20 ms at 16 kHz


class ScriptedEngine(NoHooks):
    """Hears what the test tells it to, once, at the end of the next chunk."""

    name = "scripted"

    def __init__(self) -> None:
        self.fed_s = 0.0
        self.pending: list[tuple[str, Command]] = []
        self.woken: list[Hearing] = []  # wake-phrase hearings, as a wake word engine gives

    def accept(self, pcm: np.ndarray) -> list[Hearing]:
        self.fed_s += len(pcm) / 16000
        heard = [
            *self.woken,
            *(
                Hearing(text, cmd, 0.9, self.name, True, audio_end_s=self.fed_s)
                for text, cmd in self.pending
            ),
        ]
        self.pending.clear()
        self.woken.clear()
        return heard

    def flush(self) -> list[Hearing]:
        return []

    def reset(self) -> None:
        self.pending.clear()


class RecordingSpeech:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.cues: list[str] = []
        self.volume = 0.8
        self.current_text = ""
        self.current_audio = None

    def say(self, text: str, utterance_id: int, timely: bool = False) -> None:
        self.said.append(text)

    def cue(self, name: str) -> None:
        self.cues.append(name)

    def stop(self) -> None:
        self.current_text = ""

    def change_volume(self, delta: float) -> None:
        self.volume += delta


class RecordingLed:
    def __init__(self) -> None:
        self.shown: list[LedState] = []

    def show(self, action: SetLed) -> None:
        self.shown.append(action.state)

    def set(self, state: LedState, progress: float | None = None) -> None:
        self.shown.append(state)

    def close(self) -> None:
        return None


class NoPress:
    def close(self) -> None:
        return None


def _no_mic(_on_chunk: object) -> object:
    raise AssertionError("the in-process tests feed the listening step directly")


@pytest.fixture
def rig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Service, ScriptedEngine, RecordingSpeech, RecordingLed]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no personal routines
    for var in ("CONFIGURATION_DIRECTORY", "STATE_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    engine, speech, led = ScriptedEngine(), RecordingSpeech(), RecordingLed()
    devices = Devices(
        gpio=(NoPress(), led),
        speech=speech,
        engine=engine,
        open_mic=_no_mic,  # type: ignore[arg-type]
        state_dir=tmp_path / "state",
    )
    service = Service(DEFAULTS, logging.getLogger("test"), devices=devices)
    return service, engine, speech, led


def _hear(service: Service, engine: ScriptedEngine, text: str, command: Command | None) -> None:
    """The person says `text`: one chunk through the service's listener, then its events."""
    if command is not None:
        engine.pending.append((text, command))
    listener = service.listener
    for checked in listener.listening.hear(CHUNK, listener.coach_text() or None):
        listener.decide(checked)
    while not service.events.empty():
        service._handle(service.events.get())


def test_a_heard_command_reaches_the_player_and_the_coach_answers(rig: tuple) -> None:
    service, engine, speech, led = rig
    _hear(service, engine, "start upper back", Command("start", {"routine": "upper_back"}))
    assert service.player.mode == "running"
    assert speech.said and "upper back" in speech.said[0].lower()
    assert LedState.HEARD in led.shown


def test_the_coachs_own_words_do_not_command_it(rig: tuple) -> None:
    service, engine, speech, _ = rig
    _hear(service, engine, "start upper back", Command("start", {"routine": "upper_back"}))
    speech.current_text = "Say next when you are ready."  # sounding now
    _hear(service, engine, "next", Command("next"))
    assert service.player.index == 0, "the coach's 'next' moved the routine on"


def test_the_wake_phrase_is_acknowledged_with_a_flash_and_a_tick_and_commands_nothing(
    rig: tuple, caplog: pytest.LogCaptureFixture
) -> None:
    service, engine, speech, led = rig
    caplog.set_level(logging.INFO, logger="test")
    wake = Hearing("okay nabu", None, 1.0, "scripted", True, "wake word", wake=True)
    engine.woken.append(wake)
    _hear(service, engine, "", None)
    assert speech.cues == ["tick"] and LedState.HEARD in led.shown
    assert service.player.mode == "idle" and not speech.said
    assert "heard the wake word 'okay nabu'" in caplog.text


def test_louder_reaches_the_speakers_volume_through_the_router(rig: tuple) -> None:
    service, engine, speech, _ = rig
    _hear(service, engine, "louder", Command("louder"))
    assert speech.volume > 0.8


def quiet_devices(tmp_path: Path) -> Devices:
    """No button press, no microphone, a scripted engine; state under `tmp_path`."""
    return Devices(
        gpio=(NoPress(), RecordingLed()),  # type: ignore[arg-type]
        speech=RecordingSpeech(),
        engine=ScriptedEngine(),
        open_mic=_no_mic,  # type: ignore[arg-type]
        state_dir=tmp_path / "state",
    )


def test_a_default_routine_named_as_spoken_is_what_a_bare_start_begins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: 'default_routine: lower back' (the spoken name `show` takes) was refused."""
    caplog.set_level(logging.INFO, logger="test")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no personal routines
    devices = quiet_devices(tmp_path)
    settings = replace(DEFAULTS, default_routine="lower back", web=False)
    origins = {"default_routine": "config.yaml"}
    service = Service(settings, logging.getLogger("test"), origins, devices)
    service.mic.is_open = True
    service.greet()
    service._handle(Command("start", source="button"))
    assert service.player.plan is not None
    assert service.player.plan.routine.id == "lower_back"
    # the ready line's example and the phone page's "default" name that routine too
    ready = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("ready:"))
    assert "'start lower back routine'" in ready, ready
    assert service.default_routine == "lower_back"


@pytest.mark.parametrize(
    ("wanted", "said"),
    [
        ("my morning", "default_routine 'my morning' is in {file}:2, which has a problem"),
        ("lowr back", "key 'default_routine' is 'lowr back', not a routine. Did you mean"),
    ],
)
def test_a_default_routine_that_did_not_load_does_not_stop_the_service(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    wanted: str,
    said: str,
) -> None:
    """QA: one tab in the person's routine file, whose routine default_routine names, made
    `run` exit ("... not a routine"): under systemd, a restart loop. It now starts with the
    built-in default and says why; so does a name that is no routine at all."""
    caplog.set_level(logging.INFO, logger="test")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("CONFIGURATION_DIRECTORY", raising=False)
    folder = tmp_path / "config" / "stretch-coach" / "routines"
    folder.mkdir(parents=True)
    mine = folder / "mine.yaml"
    mine.write_text("routines:\n  - id: my_morning\n    name: my morning\n\tsteps: [cat_cow]\n")
    devices = quiet_devices(tmp_path)
    settings = replace(DEFAULTS, default_routine=wanted, web=False)
    service = Service(settings, logging.getLogger("test"), {"default_routine": "c.yaml"}, devices)
    assert service.default_routine == "upper_back"
    warning = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("c.yaml"))
    assert said.format(file=mine) in warning
    assert warning.endswith("using upper back until it is fixed")
    service.mic.is_open = True
    service.greet()
    service._handle(Command("start", source="button"))
    assert service.player.plan is not None and service.player.plan.routine.id == "upper_back"


# --- start-up: an interrupted session is offered once ----------------------------------------


def _saved(age_s: float, routine: str = "upper_back") -> dict[str, object]:
    return saved_session(routine, age_s)


def _starting(
    tmp_path: Path,
    saved: dict[str, object] | None,
    button: bool = True,
    listening: bool = True,
    wake_word: str | None = None,
) -> tuple[Service, RecordingSpeech]:
    """A service built over a state folder holding `saved`, up to its ready line."""
    from skill.hardware.gpio import NoButton

    state = tmp_path / "state"
    state.mkdir()
    if saved is not None:
        (state / "state.json").write_text(json.dumps(saved))
    speech = RecordingSpeech()
    devices = Devices(
        gpio=(NoPress() if button else NoButton(), RecordingLed()),  # type: ignore[arg-type]
        speech=speech,
        engine=ScriptedEngine(),
        open_mic=_no_mic,  # type: ignore[arg-type]
        state_dir=state,
    )
    settings = replace(DEFAULTS, wake_word=wake_word, web=False)
    service = Service(settings, logging.getLogger("test"), devices=devices)
    service.mic.is_open = listening
    service.greet()
    return service, speech


def test_the_ready_line_offers_no_phone_page_that_is_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: `run --no-gpio` with `web: false` and no microphone offered the phone page."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no personal routines
    caplog.set_level(logging.INFO, logger="test")
    _starting(tmp_path, None, button=False, listening=False)  # web is off there
    ready = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("ready:"))
    assert "from the phone page" not in ready and "phone page is off" in ready


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no personal routines
    for var in ("CONFIGURATION_DIRECTORY", "STATE_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_start_up_offers_a_resumable_session_once_after_the_ready_line(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="test")
    _, speech = _starting(home, _saved(age_s=3600))
    offer = "You stopped in the middle of upper back. Say resume or press the button to carry on."
    assert speech.said == [offer]
    lines = [r.getMessage() for r in caplog.records]
    ready = next(i for i, line in enumerate(lines) if line.startswith("ready:"))
    offered = [i for i, line in enumerate(lines) if line == f"resumable: {offer}"]
    assert offered == [ready + 1], lines


@pytest.mark.parametrize(
    ("button", "listening", "wake_word", "how"),
    [
        (False, True, None, "Say resume to carry on."),
        (True, False, None, "Press the button to carry on."),
        (False, False, None, "Once I can hear you, say resume."),
        (False, True, "hey jarvis", "Say the wake word, then resume to carry on."),
        (False, False, "hey jarvis", "Once I can hear you, say the wake word, then resume."),
    ],
)
def test_the_offer_names_only_the_ways_to_resume_there_are(
    home: Path, button: bool, listening: bool, wake_word: str | None, how: str
) -> None:
    _, speech = _starting(home, _saved(age_s=60), button, listening, wake_word)
    assert speech.said == [f"You stopped in the middle of upper back. {how}"]


@pytest.mark.parametrize(
    "saved",
    [None, _saved(age_s=13 * 3600), _saved(age_s=60, routine="gone")],
    ids=["nothing saved", "expired", "routine gone"],
)
def test_no_offer_when_there_is_nothing_to_resume(
    home: Path, saved: dict[str, object] | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="test")
    _, speech = _starting(home, saved)
    assert speech.said == []
    assert not any("stopped in the middle" in r.getMessage() for r in caplog.records)


def test_the_offered_button_press_resumes_the_saved_place(home: Path) -> None:
    saved = _saved(age_s=60)
    service, speech = _starting(home, saved)
    service._handle(Command("start", source="button"))
    assert service.player.mode == "running"
    assert any(text.startswith("Welcome back.") for text in speech.said)
    snapshot = service.player.snapshot()
    assert snapshot is not None and snapshot["beat"] == saved["beat"]


def test_a_stop_that_cannot_save_says_so_in_the_log(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: with a disk that took nothing, the log still said 'stopped; progress saved'."""
    caplog.set_level(logging.INFO, logger="test")
    service, _ = _starting(home, _saved(age_s=60))
    service.store.state_path.unlink()
    service.store.state_path.mkdir()  # a state file the disk cannot write, nor remove
    service._shutdown()
    lines = [r.getMessage() for r in caplog.records]
    assert "stopped; progress saved" not in lines
    stopped = [line for line in lines if line.startswith("stopped; ")]
    assert len(stopped) == 1 and stopped[0].startswith(
        f"stopped; progress could not be saved: cannot save where you are in "
        f"{service.store.state_path}: "
    )


# --- device messages name where the device was chosen ------------------------------------------


@pytest.mark.parametrize(
    ("origin", "mic_fix", "speaker_fix"),
    [
        ("command line", "another device with --input-device", "set --output-device to one"),
        (
            "/etc/stretch-coach/config.yaml",
            "another device with input_device in /etc/stretch-coach/config.yaml",
            "set output_device in /etc/stretch-coach/config.yaml to one",
        ),
    ],
)
def test_device_messages_name_the_flag_or_file_that_chose_the_device(
    xdg_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    origin: str,
    mic_fix: str,
    speaker_fix: str,
) -> None:
    """QA: `run --output-device X` was told to "set output_device in config"."""
    import sounddevice as sd

    from skill.errors import MicrophoneError

    def busy(*args: object, **kwargs: object) -> object:
        raise sd.PortAudioError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")

    monkeypatch.setattr(sd, "query_devices", busy)
    settings = replace(DEFAULTS, input_device="mic", output_device="no-such-speaker", web=False)
    origins = {"input_device": origin, "output_device": origin}
    devices = Devices(
        gpio=(NoPress(), RecordingLed()),  # type: ignore[arg-type]
        speech=RecordingSpeech(),
        engine=ScriptedEngine(),
        state_dir=xdg_home / "state",
    )
    service = Service(settings, logging.getLogger("test"), origins, devices)
    with pytest.raises(MicrophoneError) as mic_error:
        service._open_mic(lambda chunk: None)
    assert mic_fix in str(mic_error.value) and "in config" not in str(mic_error.value)
    caplog.set_level(logging.ERROR, logger="test")
    service._open_speech()
    assert speaker_fix in caplog.text and "in config" not in caplog.text, caplog.text


class NoProgress:
    def apply(self, action: SaveProgress | RecordSession) -> None:
        pass


class _LeavesOutCounts(RecordingSpeech):
    """A speaker still playing an answer: a bare count is left out, as Speaker does."""

    def say(self, text: str, utterance_id: int, timely: bool = False) -> bool:
        if timely:
            return False
        super().say(text, utterance_id)
        return True


def test_the_log_says_which_lines_were_left_out(caplog: pytest.LogCaptureFixture) -> None:
    """QA: the log said 'coach says: Three.' for counts the speaker never played."""
    from skill.service.wiring import build_router

    caplog.set_level(logging.INFO, logger="test")
    speech = _LeavesOutCounts()
    log = logging.getLogger("test")
    router = build_router(speech, RecordingLed(), NoProgress(), log)
    router.apply([Speak("Six seconds left.", 1, kind="info"), Speak("Three.", 2, kind="count")])
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["coach says: Six seconds left.", "coach leaves out (still speaking): Three."]
    assert speech.said == ["Six seconds left."]


def test_with_a_session_to_resume_the_ready_line_names_the_default_routine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: with quick stretch resumable, the ready line said 'start quick stretch routine'
    just before "Say resume": saying it would begin that routine afresh."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    caplog.set_level(logging.INFO, logger="test")
    _starting(tmp_path, _saved(60, "quick_stretch"))
    ready = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("ready:"))
    assert "'start upper back routine'" in ready, ready


class _FailsOnce(ScriptedEngine):
    """A decoder that faults on its first stretch of audio (as nbest() None once did), then
    hears "stop" in the next."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.resets = 0

    def accept(self, pcm: np.ndarray) -> list[Hearing]:
        self.calls += 1
        if self.calls == 1:
            raise TypeError("'NoneType' object is not iterable")
        self.pending.append(("stop", Command("stop")))
        return super().accept(pcm)

    def reset(self) -> None:
        self.resets += 1
        super().reset()


def test_a_decoder_fault_drops_that_audio_and_listening_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One failed decode ended the listener thread: the coach was deaf until a restart."""
    from skill.service.service import Listener
    from skill.speech_in.recognizer import Listening

    engine = _FailsOnce()
    events: list[object] = []
    listener = Listener(Listening(engine), lambda: "", events.append, logging.getLogger("test"))
    for chunk in (np.zeros(1600, np.int16), np.zeros(1600, np.int16), None):
        listener.chunks.put(chunk)
    listener.run()
    assert "speech recognition failed on this audio; listening on" in caplog.text
    assert engine.resets == 1
    assert [e for e in events if isinstance(e, Command)] == [Command("stop")]
