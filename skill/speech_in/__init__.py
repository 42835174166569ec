"""Speech in: the recognizer engines (Vosk, PocketSphinx), the echo gate and the model download."""
