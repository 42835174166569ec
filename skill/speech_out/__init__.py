"""Speech out: the Piper voice, the phrase cache, cue tones and the speaker that plays them."""
