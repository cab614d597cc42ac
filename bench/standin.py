"""A stand-in for ``vllm serve``: its OpenAI-compatible HTTP API with realistic timing and faults.

vLLM does not run here (no GPU, no CPU wheel), so the tests and the benchmark drive the service
against this: a real HTTP/1.1 server (uvicorn) speaking the same streaming protocol as vLLM —

- ``POST /v1/chat/completions``: with ``stream``, SSE ``data:`` lines: a role chunk (sent with the
  first token: like vLLM, nothing at all is sent while the request "queues and reads the prompt"),
  one chunk per token, a finish chunk (``stop``; ``length`` rides on the last token), a usage chunk
  with empty ``choices`` when ``stream_options.include_usage``, then ``data: [DONE]``; without
  ``stream``, one ``chat.completion`` object; as vLLM does, ``stream_interval: N`` sends the tokens in
  chunks of N (the first token and the last chunk at once, each chunk when its last token is made) and
  ``stream_options.continuous_usage_stats`` puts the usage so far on every chunk;
- an error mid-stream is ``data: {"error": {...}}`` then ``[DONE]``, as vLLM sends it; an HTTP error
  status is a JSON ``{"error": {...}}`` body;
- ``GET /v1/models`` (with vLLM's ``max_model_len``), ``GET /health``.

Timing and faults come from ``standin_text.Profile``: per server from the command line, per request
from the model name (``standin:ttft=2,rate=50,error_after=10``) or the ``x-standin-profile`` header.

For measurements and assertions it also
- stamps each content chunk with ``standin_sent_at`` (``time.time()``; OpenAI clients ignore it);
- notices a client that goes away at once, also while it is silent (it watches the connection, as
  vLLM's server does to abort), and counts it;
- serves ``GET /standin/stats`` (requests, completed, client_disconnects, aborted — disconnects
  before the finish — the last disconnect's time, the client connections that carried chat requests,
  and the last request's ``X-Request-Id`` and ``Authorization``); ``?wait_disconnects=N&wait_requests=M&timeout=S``
  answers as soon as that many were seen, so a test waits on the event instead of sleeping;
- serves ``GET /standin/timeline?seed=N``: when each character offset of that request's text was
  sent, so the benchmark can measure the relay latency of every delta.

Run it: ``python -m bench.standin --port 8000 --ttft 1-3 --rate 50``; tests use ``serve_in_thread``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import random
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import uvicorn

from bench.standin_sse import Dropped, Receive, Send, Stream, StreamRecord, error
from bench.standin_text import Profile, is_english, parse_range, tokens

Scope = MutableMapping[str, Any]
KEEP_TIMELINES = 20_000


@dataclass(slots=True)
class Stats:
    requests: int = 0
    completed: int = 0
    client_disconnects: int = 0
    aborted: int = 0
    errors_sent: int = 0
    last_disconnect_at: float | None = None
    connections: int = 0
    last_request_id: str = ""
    last_authorization: str = ""


class StandIn:
    """The ASGI application."""

    def __init__(
        self, profile: Profile | None = None, model: str = "standin", max_model_len: int = 8192
    ) -> None:
        self.profile = profile or Profile()
        self.model = model
        self.max_model_len = max_model_len
        self.stats = Stats()
        self.timelines: OrderedDict[int, list[tuple[int, float]]] = OrderedDict()
        self._clients: set[tuple[Any, ...]] = set()
        self._changed: asyncio.Condition | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        if path == "/health":
            await _json(send, 200, {})
        elif path == "/v1/models":
            card = {"id": self.model, "object": "model", "created": int(time.time()), "owned_by": "vllm"}
            card |= {"root": self.model, "parent": None, "max_model_len": self.max_model_len}
            await _json(send, 200, {"object": "list", "data": [card]})
        elif path == "/standin/stats":
            await self._stats(send, query)
        elif path == "/standin/timeline":
            sent = self.timelines.get(int(query.get("seed", "-1")), [])
            await _json(send, 200, {"seed": int(query.get("seed", "-1")), "sent": sent})
        elif path == "/v1/chat/completions" and method == "POST":
            await self._chat(scope, receive, send)
        else:
            await _json(send, 404, error(f"no route {method} {path}", "NotFoundError", 404))

    # the chat completions endpoint -------------------------------------------------------------------

    async def _chat(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        body = json.loads(raw or b"{}")
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        profile = self.profile
        model = str(body.get("model") or self.model)
        if model.startswith("standin:"):
            profile = profile.overridden(model.partition(":")[2])
        if "x-standin-profile" in headers:
            profile = profile.overridden(headers["x-standin-profile"])
        self.stats.requests += 1
        self._clients.add(tuple(scope.get("client") or ()))
        self.stats.connections = len(self._clients)
        self.stats.last_request_id = headers.get("x-request-id", "")
        self.stats.last_authorization = headers.get("authorization", "")
        await self._notify()
        if profile.status:
            self.stats.errors_sent += 1
            kind = "ServiceUnavailableError" if profile.status == 503 else "InternalServerError"
            await _json(send, profile.status, error("the stand-in was told to fail", kind, profile.status))
            return
        messages = body.get("messages") or [{}]
        seed = body.get("seed")
        if seed is None:
            seed = zlib.crc32(json.dumps(messages, ensure_ascii=False).encode())
        rng = random.Random(seed)
        limit = int(body.get("max_completion_tokens") or body.get("max_tokens") or profile.tokens)
        count = min(profile.tokens, limit)
        finish = "length" if limit < profile.tokens else "stop"
        pieces = tokens(rng, is_english(str(messages[0].get("content", ""))), count)
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages)
        usage = {
            "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens + count,
            "completion_tokens": count,
        }
        ttft = profile.time_to_first_token(rng)
        head = {"id": f"chatcmpl-{rng.getrandbits(64):016x}", "created": int(time.time()), "model": model}
        if not body.get("stream"):
            await asyncio.sleep(ttft + count / profile.rate)
            self.stats.completed += 1
            message = {"role": "assistant", "content": "".join(pieces)}
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            await _json(send, 200, head | {"object": "chat.completion", "choices": [choice], "usage": usage})
            return
        record = StreamRecord()
        self.timelines[int(seed)] = record.sent
        while len(self.timelines) > KEEP_TIMELINES:
            self.timelines.popitem(last=False)
        options = body.get("stream_options") or {}
        with_usage = bool(options.get("include_usage"))
        interval = max(int(body.get("stream_interval") or 1), 1)
        continuous = prompt_tokens if options.get("continuous_usage_stats") else None
        stream = Stream(send, head | {"object": "chat.completion.chunk"}, record)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                ],
            }
        )
        producer = asyncio.ensure_future(
            stream.run(profile, pieces, ttft, finish, usage if with_usage else None, interval, continuous)
        )
        watcher = asyncio.ensure_future(_disconnect(receive))
        try:
            await asyncio.wait((producer, watcher), return_when=asyncio.FIRST_COMPLETED)
            if (watcher.done() and not stream.ended) or stream.gone:
                self.stats.client_disconnects += 1
                self.stats.last_disconnect_at = time.time()
                self.stats.aborted += not record.finished
        finally:
            producer.cancel()
            watcher.cancel()
            await asyncio.wait((producer, watcher))
        self.stats.completed += record.finished
        await self._notify()
        if not producer.cancelled() and isinstance(producer.exception(), Dropped):
            raise Dropped("dropping the connection as the profile says")

    # stats --------------------------------------------------------------------------------------------

    async def _stats(self, send: Send, query: dict[str, str]) -> None:
        s = self.stats
        disconnects, requests = int(query.get("wait_disconnects", "0")), int(query.get("wait_requests", "0"))

        def seen() -> bool:
            return s.client_disconnects >= disconnects and s.requests >= requests

        if not seen():
            changed = self._condition()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(float(query.get("timeout", "5"))), changed:
                    await changed.wait_for(seen)
        await _json(send, 200, dataclasses.asdict(s))

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        changed = self._condition()
        async with changed:
            changed.notify_all()


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data, "more_body": False})


# running it -------------------------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn that says when its socket is bound (a handshake, instead of polling for readiness)."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[int], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.servers:
            self.on_ready(self.servers[0].sockets[0].getsockname()[1])


def _config(app: StandIn, host: str, port: int) -> uvicorn.Config:
    options = {"lifespan": "off", "ws": "none", "log_level": "warning", "access_log": False}
    return uvicorn.Config(app, host=host, port=port, timeout_graceful_shutdown=1, **options)  # type: ignore[arg-type]


@contextlib.contextmanager
def serve_in_thread(app: StandIn, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` from a thread of this process; yields the base URL (``http://HOST:PORT/v1``)."""
    bound: list[int] = []
    ready = threading.Event()

    def on_ready(actual: int) -> None:
        bound.append(actual)
        ready.set()

    server = _Server(_config(app, host, port), on_ready)

    def run() -> None:
        try:
            server.run()
        finally:
            ready.set()  # a failed start must not leave the caller waiting

    thread = threading.Thread(target=run, name="standin", daemon=True)
    thread.start()
    if not ready.wait(10.0) or not bound:
        raise RuntimeError("the stand-in did not start")
    try:
        yield f"http://{host}:{bound[0]}/v1"
    finally:
        server.should_exit = True
        thread.join(5.0)
        if thread.is_alive():
            server.force_exit = True
            thread.join(5.0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.standin", description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    p.add_argument("--model", default="standin", help="the model name it serves")
    p.add_argument("--max-model-len", type=int, default=8192)
    p.add_argument("--ttft", default="0.05", help="seconds to the first token: 1.5, or a range 1-3")
    p.add_argument("--rate", type=float, default=50.0, help="tokens per second")
    p.add_argument("--tokens", type=int, default=160, help="tokens of a full answer")
    p.add_argument("--profile", default="", help="more profile settings: stall_after=5,stall=2,…")
    args = p.parse_args(argv)
    profile = Profile(ttft=parse_range(args.ttft), rate=args.rate, tokens=args.tokens).overridden(
        args.profile
    )
    app = StandIn(profile, args.model, args.max_model_len)

    def on_ready(port: int) -> None:
        print(f"standin listening on http://{args.host}:{port}/v1", flush=True)

    _Server(_config(app, args.host, args.port), on_ready).run()


if __name__ == "__main__":
    main()
