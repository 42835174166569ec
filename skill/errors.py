"""Every error the person can fix, under one base: the CLI prints the message, exit code 1.

Each message names what is wrong (the file, the key, the pin, the device) and what to do, so
none needs re-wrapping on its way out. Bugs stay ordinary exceptions and show a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the person can fix; printed as one clear message, exit code 1."""


class ConfigError(UserError):
    """A config file or value is wrong; the message says where and what is allowed."""


class ScriptError(UserError, ValueError):
    """A --simulate script item that cannot be understood; the message says which and why."""


class ModelError(UserError):
    """A speech model (the Vosk folder, a wake word's) is missing or broken; the message says
    what to run or set instead."""


class DownloadError(UserError):
    """The download failed or the file is not the expected one; the message says what to do."""


class VoiceError(UserError):
    """The voice file is missing, broken or not a Piper voice; the message names the file."""


class MicrophoneError(UserError):
    """No usable input device, or it is busy; the message says what to do."""


class AudioDeviceError(UserError):
    """The speaker is missing, busy or failed; the message says how to fix it."""


class GpioError(UserError):
    """A pin cannot be used; the message names the pin and the fix."""


class QuotaError(UserError):
    """No usable cpu controller, or writing to it failed; the message says which and why."""
