"""Benchmarks of medsupport against the real local stack: `make bench` or `uv run python -m bench`."""
