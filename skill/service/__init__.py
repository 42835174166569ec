"""The home service: the event loop, the action router, progress on disk, systemd notify."""
