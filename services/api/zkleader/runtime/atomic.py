"""Replacing a shared file so that a reader never sees it half-written."""

from __future__ import annotations

import os
import tempfile


def write_atomically(path: str, data: bytes, *, prefix: str) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over
    ``path``: readers in other processes see the old content or the new one,
    never a mix. The temporary file (named ``prefix`` + random) is removed if
    anything fails before the rename."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
