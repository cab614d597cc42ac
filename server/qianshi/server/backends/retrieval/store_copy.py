"""Copy an embedded store (or a whole state folder) as it lies on disk, holes included.

Qdrant Edge's data files are sparse: the shipped corpus's index uses ~14 MB of disk for ~300 MB of
apparent size. ``shutil.copytree`` writes every hole out as zeros, so each copy costs the apparent
size — a test suite or a benchmark that gives each server its own copy filled a disk that way.
``copy_tree`` copies only the data regions of each file (``SEEK_DATA`` / ``SEEK_HOLE``) and leaves
the rest as holes; where the file system cannot tell (``EINVAL``), a file is copied plainly.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def copy_file(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Copy one file, keeping its holes, then its permission bits and times."""
    with open(src, "rb") as source, open(dst, "wb") as target:
        size = os.fstat(source.fileno()).st_size
        try:
            _copy_data_regions(source.fileno(), target, size)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):
                raise
            source.seek(0)
            target.seek(0)
            target.truncate(0)
            shutil.copyfileobj(source, target, CHUNK)
        target.truncate(size)
    shutil.copystat(src, dst)


def _copy_data_regions(fd: int, target: Any, size: int) -> None:
    position = 0
    while position < size:
        try:
            start = os.lseek(fd, position, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole is left
                return
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        target.seek(start)
        os.lseek(fd, start, os.SEEK_SET)
        remaining = end - start
        while remaining > 0:
            chunk = os.read(fd, min(remaining, CHUNK))
            if not chunk:
                return
            target.write(chunk)
            remaining -= len(chunk)
        position = end


def copy_tree(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    ignore: Callable[[str, list[str]], Iterable[str]] | None = None,
) -> Path:
    """``shutil.copytree`` with :func:`copy_file`: the copy takes the disk space the source takes."""
    return Path(shutil.copytree(src, dst, ignore=ignore, copy_function=copy_file))
