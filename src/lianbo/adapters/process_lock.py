"""One process per SQLite data dir (ADR 0012).

SQLite is the embedded, single-process store: caches, the alarm book and
the in-process job queue all assume they are alone. A process that serves
or works takes an exclusive ``flock`` on ``<data dir>/lianbo.lock`` for its
whole life; the kernel lets go when the process ends, however it ends, so
a crash leaves no stale lock. Commands that only read (backup, audit
verify) do not take it and keep working beside the server.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import BinaryIO

LOCK_NAME = "lianbo.lock"


class DataDirInUse(Exception):
    """Another live process holds the data dir."""


def hold_data_dir(data_dir: Path) -> BinaryIO:
    """Lock ``data_dir`` for this process; keep the returned file open for
    as long as the lock must hold. Raises ``DataDirInUse`` if it is taken."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_NAME).open("a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirInUse(str(data_dir)) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n".encode())  # for a person looking: who holds it
    handle.flush()
    return handle
