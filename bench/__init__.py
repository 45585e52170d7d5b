"""Benchmarks: each module has ``run(size, data_dir) -> dict`` (see README)."""
