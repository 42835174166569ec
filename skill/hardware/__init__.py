"""Devices at the edge: the microphone, the sound output, WAV files, the button and the LED."""
