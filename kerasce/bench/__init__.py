"""The benchmark: `python -m kerasce.bench` (its command is __main__.py, its measurements measure.py)."""
