"""The pure coaching core: events, exercise data, plan, wording, player, intents, gestures.

Nothing here touches a device, a file or an engine (tests/test_layers.py enforces it), so the
whole coaching behaviour runs on a virtual clock in tests and in `show --simulate`.
"""
