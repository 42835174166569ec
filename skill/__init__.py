"""Stretch Coach: an offline, voice-controlled back-stretching coach for a Raspberry Pi."""

__version__ = "0.1.0"
