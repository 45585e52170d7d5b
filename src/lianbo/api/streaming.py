"""Streaming request bodies into the blob store, hashing on the way.

Starlette's ``request.form()`` spools uploads to a temp file first; for
multi-GB media that would write every byte twice. Here the multipart parser
feeds the ``file`` part straight into a ``BlobWriter`` as chunks arrive.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from lianbo.domain.errors import InvalidInput, TooLarge
from lianbo.domain.ports import BlobStore, BlobWriting, StoredBlob

FIELD_MAX = 4096  # bytes of any non-file form field
FILE_FIELD = "file"


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    value: bytearray = field(default_factory=bytearray)


@dataclass
class MultipartUpload:
    """What a streamed multipart request carried."""

    fields: dict[str, str]
    blob: StoredBlob | None
    filename: str | None


class _Receiver:
    """python-multipart callbacks writing the file part to the blob store."""

    def __init__(self, store: BlobStore, limit: int) -> None:
        self.store = store
        self.limit = limit
        self.part = _Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.fields: dict[str, str] = {}
        self.writer: BlobWriting | None = None
        self.finished: BlobWriting | None = None
        self.filename: str | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda d, s, e: self.header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self.header_value.extend(d[s:e]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.part = _Part()

    def header_end(self) -> None:
        self.part.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def headers_finished(self) -> None:
        disposition = self.part.headers.get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = options.get(b"filename")
        self.part.filename = raw_filename.decode("utf-8", "replace") if raw_filename else None
        if self.part.name == FILE_FIELD:
            if self.writer is not None or self.finished is not None:
                raise InvalidInput("only one file per upload", field=FILE_FIELD)
            self.writer = self.store.writer(self.limit)
            self.filename = self.part.filename

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.name == FILE_FIELD and self.writer is not None:
            self.writer.write(memoryview(data)[start:end])
            return
        self.part.value.extend(data[start:end])
        if len(self.part.value) > FIELD_MAX:
            raise InvalidInput(f"form field {self.part.name!r} is too long", field=self.part.name)

    def part_end(self) -> None:
        if self.part.name == FILE_FIELD and self.writer is not None:
            self.finished, self.writer = self.writer, None  # finished off the event loop
        elif self.part.name:
            self.fields[self.part.name] = self.part.value.decode("utf-8", "replace")

    def abort(self) -> None:
        for writer in (self.writer, self.finished):
            if writer is not None:
                writer.abort()


async def receive_multipart(request: Request, store: BlobStore, limit: int) -> MultipartUpload:
    """Stream a multipart/form-data body; the ``file`` part goes to ``store``."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit + 1024 * 1024:  # the body also holds boundaries and fields
        raise TooLarge(f"file is larger than the limit of {limit} bytes", field=FILE_FIELD)
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInput("expected multipart/form-data with a 'file' part", field=FILE_FIELD)
    receiver = _Receiver(store, limit)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as error:
        receiver.abort()
        raise InvalidInput(f"malformed multipart body: {error}", field=FILE_FIELD) from None
    except BaseException:
        receiver.abort()
        raise
    if receiver.writer is not None:  # the body ended inside the file part
        receiver.abort()
        raise InvalidInput("the upload ended before the file did", field=FILE_FIELD)
    blob = None
    if receiver.finished is not None:  # S3: the upload to the bucket happens here
        try:
            blob = await asyncio.to_thread(receiver.finished.finish)
        except BaseException:
            receiver.abort()
            raise
    return MultipartUpload(receiver.fields, blob, receiver.filename)
