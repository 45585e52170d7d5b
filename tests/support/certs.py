"""Test certificates: made by ``bench/harness/certs.py`` (benchmarks make them too)."""

from bench.harness.certs import DEFAULT_HOSTS, Ca

__all__ = ["DEFAULT_HOSTS", "Ca"]
