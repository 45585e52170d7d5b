"""Real services started for a run, shared by ``tests/`` and ``bench/``:
a private PostgreSQL, certificates made on the spot, and a cluster of
``lianbo serve`` processes behind HAProxy. Nothing here imports ``tests``.
"""
