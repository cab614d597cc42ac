"""Stream-open bursts: the cause of CANCELLED at open, reproduced small, and the client's safe retry.

gRPC core holds calls that arrived before grpc.aio took them; past ``grpc.server.max_pending_requests``
it cancels new ones (FACTS.md's CANCELLED on bursts of ≥ 2,000 opens: the defaults are 1,000 soft /
3,000 hard). Here the bound is lowered to 100 so that a burst of 800 opens shows it; the measurement at
full size is ``bench/open_burst.py``. The client library re-sends a stream that failed with CANCELLED
before its first event, with the same ``request_id``, so a call the server did take is re-attached,
never started twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import grpc
import pytest
from qianshi.client import AsyncClient, RetryPolicy
from qianshi.v1 import interpret_service_pb2_grpc

from tests.reliability.conftest import request, server_with

pytestmark = pytest.mark.asyncio(loop_scope="session")
BURST = 800


async def test_a_burst_past_the_pending_bound_is_cancelled_and_the_client_retries_it(built_state, tmp_path):
    flags = ("--max-pending-calls", "100", "--grounded-pace", "0.05", "--tick-generation", "0.5")
    async with server_with(built_state, tmp_path, *flags) as srv:
        target = f"127.0.0.1:{srv.port}"
        outcomes: Counter[str] = Counter()
        async with grpc.aio.insecure_channel(target) as channel:
            stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)

            async def raw(i: int) -> None:
                call = stub.Interpret(request(number=i % 60 + 1, request_id=f"raw-{i}"), timeout=60)
                try:
                    await call.read()
                    outcomes["first event"] += 1
                except grpc.aio.AioRpcError as error:
                    outcomes[error.code().name] += 1
                finally:
                    call.cancel()

            await asyncio.gather(*(raw(i) for i in range(BURST)))
        print(f"\nraw burst of {BURST} (pending bound 100): {dict(outcomes)}")
        assert outcomes["CANCELLED"] > 0, "the burst should overflow the lowered pending bound"
        assert set(outcomes) <= {"first event", "CANCELLED"}

        log = srv.registry.events.inner  # type: ignore[attr-defined]  # MeteredEventLog → MemoryEventLog
        tasks_before = len(log)
        task_ids: set[str] = set()
        async with AsyncClient(target, retry=RetryPolicy(attempts=8, max_backoff=1.0)) as client:

            async def retried(i: int) -> None:
                stream = client.interpret("mazu60", i % 60 + 1, "我今年換工作會順利嗎？", timeout=60)
                async with contextlib.aclosing(stream):
                    async for event in stream:
                        task_ids.add(event.task_id)
                        break

            await asyncio.gather(*(retried(i) for i in range(BURST)))
        assert len(task_ids) == BURST, "every stream got its first event"
        assert len(log) - tasks_before == BURST, "no request started two tasks"
