"""Developer tools shipped for `demo` and `bench`: the scripted demo, benchmarks, corpora.

Only skill.cli and other tools import these (tests/test_layers.py enforces it).
"""
