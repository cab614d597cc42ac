"""qianshi-ingest: validation names the line and the field; indexing is idempotent."""

from __future__ import annotations

import json
from importlib import resources

from qianshi.server.ingest import main


def shipped_lines(n: int) -> list[str]:
    text = resources.files("qianshi.server").joinpath("corpus/mazu60.jsonl").read_text(encoding="utf-8")
    return text.splitlines()[:n]


def test_a_bad_line_is_named_with_its_field(tmp_path, capsys):
    lines = shipped_lines(2)
    broken = json.loads(lines[1])
    broken["verse"] = ["only one line"]
    path = tmp_path / "mine.jsonl"
    path.write_text(lines[0] + "\n" + json.dumps(broken, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main([str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "mine.jsonl:2" in err and "verse" in err


def test_indexing_twice_skips_the_second_time(tmp_path, capsys):
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(shipped_lines(3)) + "\n", encoding="utf-8")
    store = tmp_path / "qdrant"
    assert main([str(path), "--qdrant-path", str(store)]) == 0
    assert "indexed:" in capsys.readouterr().out
    assert (store / "edge-index.json").is_file()  # Qdrant Edge shards, as the server builds them
    assert main([str(path), "--qdrant-path", str(store)]) == 0
    assert "already up to date" in capsys.readouterr().out
