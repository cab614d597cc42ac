"""The client process of ``bench.gateway_cost``: streams interpretations from the gateway over SSE,
gRPC-Web or Connect, as many at once as it is told, and counts the events it received.

It reads commands on stdin, one per line, and answers on stdout (so the parent waits on its answer,
never on a timer)::

    run <protocol> <tasks> <concurrency>   →   done {"events": N, "tasks": N, "failed": N, "wall_s": S}
    quit

SSE is read with httpx (the gateway's ``GET /v1/interpret``); gRPC-Web and Connect with connectrpc's
own client (pyqwest underneath), without compression as ``@connectrpc/connect-web`` in a browser:
binary protobuf (``grpcweb``, ``connect``) or protobuf JSON (``connect-json``: connect-web's Connect
transport sends JSON unless told ``useBinaryFormat``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx
from connectrpc.client import ConnectClient
from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec
from connectrpc.protocol import ProtocolType
from qianshi.server.gateway.rpc import SERVICE, method_info
from qianshi.v1 import interpret_service_pb2

REQUESTS = [
    ("mazu60", 23, "我今年換工作會順利嗎？"),
    ("guanyin100", 7, "這段感情會有結果嗎？"),
    ("guandi100", 41, "明年搬家好嗎？"),
]
INTERPRET = method_info(SERVICE.methods_by_name["Interpret"])
PROTOCOLS = {
    "grpcweb": ProtocolType.GRPC_WEB,
    "connect": ProtocolType.CONNECT,
    "connect-json": ProtocolType.CONNECT,
}


async def sse_task(http: httpx.AsyncClient, i: int) -> int:
    set_id, number, question = REQUESTS[i % len(REQUESTS)]
    params = {"set": set_id, "number": str(number), "question": question}
    events = 0
    async with http.stream("GET", "/v1/interpret", params=params) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            events += line.startswith("data:")  # one data line per event (the JSON is on one line)
    return events


async def rpc_task(client: ConnectClient, i: int) -> int:
    set_id, number, question = REQUESTS[i % len(REQUESTS)]
    request = interpret_service_pb2.InterpretRequest(set_id=set_id, number=number, question=question)
    events = 0
    async for _ in client.execute_server_stream(request=request, method=INTERPRET):
        events += 1
    return events


async def run(url: str, protocol: str, tasks: int, concurrency: int) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)
    counts: list[int] = []
    failed = 0
    http = httpx.AsyncClient(
        base_url=url,
        timeout=60,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )
    client = ConnectClient(
        url,
        codec=google_protobuf_json_codec() if protocol.endswith("json") else google_protobuf_binary_codec(),
        protocol=PROTOCOLS.get(protocol, ProtocolType.CONNECT),
        accept_compression=(),
        send_compression=None,
    )

    async def one(i: int) -> None:
        nonlocal failed
        async with gate:
            try:
                counts.append(await (sse_task(http, i) if protocol == "sse" else rpc_task(client, i)))
            except Exception as exc:  # counted and reported, never hidden
                failed += 1
                print(f"task failed: {exc!r}", file=sys.stderr)

    start = time.perf_counter()
    try:
        async with asyncio.TaskGroup() as group:
            for i in range(tasks):
                group.create_task(one(i))
    finally:
        await http.aclose()
        await client.close()
    return {
        "events": sum(counts),
        "tasks": len(counts),
        "failed": failed,
        "wall_s": time.perf_counter() - start,
    }


async def main(url: str) -> None:
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line or line == "quit":
            return
        _, protocol, tasks, concurrency = line.split()
        result = await run(url, protocol, int(tasks), int(concurrency))
        print("done " + json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
