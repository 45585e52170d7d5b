"""The shipped caching edge (deploy/nginx/lianbo-edge.conf.template), run by
the tests: ``bench.harness.edge`` (the benchmarks run the same), skipped
where nginx with the cache-purge module is not installed."""

from __future__ import annotations

from bench.harness import edge as harness

from tests.support.services import missing


class Edge(harness.Edge):
    """nginx running the shipped edge config on a free port; ``stop`` ends it."""

    def __init__(self, origin_port: int) -> None:
        if not harness.available():
            missing("nginx with the cache-purge module is not installed (scripts/install-services)")
        super().__init__(origin_port)
