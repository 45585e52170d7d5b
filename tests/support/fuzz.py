"""Schemathesis over the in-process app: cases generated in a worker thread,
sent to the test's own ``httpx`` client on the test's event loop.

The app and its store live on the test's loop (asyncpg connections belong
to one loop), so the generated requests are not run on a loop of their own:
a ``requests`` adapter hands each prepared request to the async client with
``run_coroutine_threadsafe`` and waits for the answer. Schemathesis prepares
every body (JSON, multipart, XML, bytes) exactly as it would for a server.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import schemathesis
import urllib3
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from requests.adapters import BaseAdapter, HTTPAdapter
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.case import Case
from schemathesis.generation.hypothesis.builder import FeedbackSources, add_coverage
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

BASE_URL = "http://lianbo.test"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class LoopAdapter(BaseAdapter):
    """A ``requests`` transport that answers from an ``httpx.AsyncClient``
    running on another thread's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> None:
        super().__init__()
        self.loop, self.client = loop, client

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        headers = [(name, _latin1(value)) for name, value in request.headers.items()]
        call = self.client.request(
            str(request.method), str(request.url), headers=headers, content=body
        )
        answer = asyncio.run_coroutine_threadsafe(call, self.loop).result()
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=list(answer.headers.multi_items()),
            status=answer.status_code,
            preload_content=False,
            decode_content=False,
            request_method=request.method,
        )
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        """Nothing to close: the client belongs to the test."""


def _latin1(value: str | bytes) -> bytes:
    # What a real client puts on the wire; the server decodes it the same way.
    return value if isinstance(value, bytes) else value.encode("latin-1", "replace")


@dataclass(frozen=True)
class Budget:
    """Examples per operation and generation mode; seeds are fixed."""

    positive: int
    negative: int
    coverage: bool = False  # also schemathesis' deterministic boundary cases


@dataclass
class Run:
    """One pass over every operation with one set of credentials."""

    schema: Any
    session: requests.Session
    credentials: Mapping[str, Mapping[str, str]]  # path prefix → headers
    budget: Budget
    overrides: Mapping[str, Budget] = field(default_factory=dict)  # by "METHOD /path"
    known: Mapping[str, str] = field(default_factory=dict)  # path parameter → a real id
    failures: dict[str, str] = field(default_factory=dict)

    def all(self) -> dict[str, str]:
        """Every operation, positive then negative; the first failure of each."""
        for result in self.schema.get_all_operations():
            operation = result.ok()
            budget = self.overrides.get(operation.label, self.budget)
            for mode, examples in self._modes(operation, budget):
                self._one(operation, mode, examples, budget.coverage)
            names = [p.name for p in operation.path_parameters]
            known = {name: self.known[name] for name in names if name in self.known}
            if known and len(known) == len(names):
                # The same operation on things that exist: past the 404.
                self._one(operation, GenerationMode.POSITIVE, budget.positive, False, known)
        return self.failures

    def _modes(self, operation: Any, budget: Budget) -> Iterator[tuple[GenerationMode, int]]:
        yield GenerationMode.POSITIVE, budget.positive
        # Only inputs with a shape can be generated wrong; a free string path
        # parameter has no invalid value.
        negatable = len(operation.body) or len(operation.query) or len(operation.headers)
        if budget.negative and negatable:
            yield GenerationMode.NEGATIVE, budget.negative

    def _headers(self, operation: Any) -> dict[str, str]:
        for prefix, headers in self.credentials.items():
            if operation.path.startswith(prefix):
                return dict(headers)
        return {}

    def _one(
        self,
        operation: Any,
        mode: GenerationMode,
        examples: int,
        coverage: bool,
        known: Mapping[str, str] | None = None,
    ) -> None:
        headers = self._headers(operation)
        label = f"{operation.label} [{mode.value}{', known ids' if known else ''}]"
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=known)

        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report as found
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=strategy)
        def check(case: Case) -> None:
            response = case.call(session=self.session, base_url=BASE_URL, headers=headers)
            try:
                case.validate_response(response, headers=headers, checks=CHECKS)
            except FailureGroup as failure:
                self.failures.setdefault(label, str(failure))

        if coverage:
            generation = self.schema.config.generation_for(operation=operation, phase="coverage")
            check = add_coverage(
                check, operation, [mode], None, Override(), FeedbackSources(), generation
            )
        try:
            check()
        except Unsatisfiable:
            # Free-form inputs (a Range header, any string) have no invalid
            # value to generate; the boundary cases above still ran.
            if mode is not GenerationMode.NEGATIVE:
                raise


def session_for(loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> requests.Session:
    """A ``requests`` session whose requests reach ``client`` on ``loop``."""
    session = requests.Session()
    session.mount(BASE_URL, LoopAdapter(loop, client))
    return session


def load(document: dict[str, Any]) -> Any:
    """The schema; generated strings include NUL and other control characters."""
    schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
    schema = schemathesis.openapi.from_dict(document)
    return schema
