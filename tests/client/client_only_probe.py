"""Run inside a virtual environment that has only ``qianshi-client``: use the library against a server.

Usage: python -I client_only_probe.py HOST:PORT

Prints one JSON object: which of the server's packages could be found (none should), the installed
distributions, and what the sync and async clients got from the server. tests/client/test_client_package.py
runs it; it imports nothing from the tests or the server.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import sys
from typing import Any

from qianshi.client import AsyncClient, Client, InvalidArgument, is_terminal, payload_kind

SERVER_PACKAGES = (
    "qianshi.server",
    "qdrant_client",
    "qdrant_edge",
    "numpy",
    "jieba",
    "openai",
    "httpx",
    "starlette",
    "uvicorn",
    "sse_starlette",
    "redis",
    "prometheus_client",
    "grpc_health",
    "grpc_reflection",
)
QUESTION = "我今年換工作會順利嗎？"


def found(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent package is missing
        return False


async def with_async_client(target: str) -> dict[str, Any]:
    async with AsyncClient(target) as client:
        kinds = [payload_kind(e) async for e in client.interpret("guanyin100", 1, QUESTION)]
        poem = await client.get_poem("mazu60", 23)
    return {"kinds": kinds, "poem": [poem.set_id, poem.number, len(poem.verse_lines)]}


def with_sync_client(target: str) -> dict[str, Any]:
    with Client(target) as client:
        sets = sorted(s.id for s in client.list_sets())
        events = list(client.interpret("mazu60", 23, QUESTION))
        try:
            list(client.interpret("mazu60", 0, QUESTION, locale="fr"))
            refused: list[str] = []
        except InvalidArgument as error:
            refused = sorted(v.field for v in error.field_violations)
    last = events[-1]
    return {
        "sets": sets,
        "seqs": [e.seq for e in events],
        "terminal": [is_terminal(e) for e in events],
        "result_text": last.result.text,
        "refused_fields": refused,
    }


def main() -> int:
    target = sys.argv[1]
    report = {
        "python": sys.executable,
        "server_packages_found": [name for name in SERVER_PACKAGES if found(name)],
        "distributions": sorted(d.metadata["Name"] for d in importlib.metadata.distributions()),
        "sync": with_sync_client(target),
        "async": asyncio.run(with_async_client(target)),
    }
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
