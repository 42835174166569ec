"""The exercise library: exercise and routine YAML files loaded and checked into core data."""
