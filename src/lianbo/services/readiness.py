"""Whether this process is ready to serve: what ``/healthz`` reports.

A process is ready when its store answers and every named check on the
container (``Container.health_checks``: the event bus, …) says so. A load
balancer (HAProxy, ``deploy/haproxy/haproxy.cfg``) takes a process that is not
ready out of rotation and puts it back once it is. Each part's change is
logged once, when it happens, never on every probe (the probe runs every few
seconds from each balancer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger()

Check = Callable[[], bool]
STORE = "database"


@dataclass
class Readiness:
    """The last verdict per part, so a change is logged once."""

    last: dict[str, bool] = field(default_factory=dict)

    def judge(self, results: Mapping[str, bool]) -> list[str]:
        """Record ``results`` (part -> ready); the parts not ready, in order."""
        for name, ready in results.items():
            if self.last.get(name, True) != ready:  # a fresh process assumes ready
                if ready:
                    log.info("ready again", part=name)
                else:
                    log.warning("not ready", part=name)
            self.last[name] = ready
        return [name for name, ready in results.items() if not ready]


def run_checks(checks: Mapping[str, Check]) -> dict[str, bool]:
    """Each named check's answer; one that raises counts as not ready."""
    results: dict[str, bool] = {}
    for name, check in checks.items():
        try:
            results[name] = bool(check())
        except Exception:  # a broken check must not take /healthz down with it;
            results[name] = False  # ``Readiness.judge`` logs the change once
    return results


def report(results: Mapping[str, bool], not_ready: list[str]) -> dict[str, object]:
    """The ``/healthz`` body: ``status``, each part's ``ok``/``error``, and
    ``not_ready`` naming the parts that are not (only when some are not)."""
    body: dict[str, object] = {"status": "error" if not_ready else "ok"}
    body.update({name: "ok" if ready else "error" for name, ready in results.items()})
    if not_ready:
        body["not_ready"] = not_ready
    return body
