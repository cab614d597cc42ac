"""A copy of a store keeps its holes: it takes the disk space the source takes, with the same bytes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from qianshi.server.backends.retrieval.store_copy import copy_file, copy_tree

MIB = 1 << 20


def sparse_file(path: Path, size: int, regions: dict[int, bytes]) -> None:
    with open(path, "wb") as f:
        f.truncate(size)
        for offset, data in regions.items():
            f.seek(offset)
            f.write(data)


def used(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def test_a_sparse_file_is_copied_with_its_holes_and_its_bytes(tmp_path: Path) -> None:
    source = tmp_path / "segment.dat"
    sparse_file(source, 64 * MIB, {0: b"head" * 1024, 40 * MIB: b"middle" * 4096, 64 * MIB - 3: b"end"})
    if used(source) > 4 * MIB:
        pytest.skip("this file system stores no holes")
    target = tmp_path / "copy.dat"
    copy_file(source, target)
    assert target.read_bytes() == source.read_bytes()
    assert used(target) <= used(source) + 64 * 1024
    plain = tmp_path / "plain.dat"
    shutil.copyfile(source, plain)
    plain_cost = used(plain)
    plain.unlink()
    assert plain_cost > 32 * MIB  # what the plain copy costs, which is why copy_file exists


def test_a_file_that_ends_in_a_hole_keeps_its_size(tmp_path: Path) -> None:
    source = tmp_path / "tail.dat"
    sparse_file(source, 8 * MIB, {MIB: b"data"})
    target = tmp_path / "copy.dat"
    copy_file(source, target)
    assert target.stat().st_size == 8 * MIB
    assert target.read_bytes() == source.read_bytes()


def test_a_tree_is_copied_whole_with_ignored_names_left_out(tmp_path: Path) -> None:
    source = tmp_path / "state"
    (source / "qdrant" / "shard").mkdir(parents=True)
    sparse_file(source / "qdrant" / "shard" / "a.dat", 16 * MIB, {5 * MIB: b"x" * 100})
    (source / "estimates.json").write_text("{}")
    (source / "qdrant" / "x.lock").write_text("")
    (source / "empty.dat").write_bytes(b"")
    copy = copy_tree(source, tmp_path / "copy", ignore=shutil.ignore_patterns("*.lock"))
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*")) == [
        "empty.dat",
        "estimates.json",
        "qdrant",
        "qdrant/shard",
        "qdrant/shard/a.dat",
    ]
    assert (copy / "qdrant" / "shard" / "a.dat").read_bytes() == (
        source / "qdrant" / "shard" / "a.dat"
    ).read_bytes()
