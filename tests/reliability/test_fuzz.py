"""Bad input, fuzzed: every field of every request message, and raw malformed or oversized bytes.

One real server runs in a child process (authentication on, so missing and wrong tokens are part of
the input), and every case goes to it over a real channel. Whatever the input, the call must end OK
(valid input; a stream is cancelled after its first event to keep cases quick) or with
INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED or UNAUTHENTICATED — never INTERNAL, UNKNOWN, a hung
call or a dead server. Meanwhile a steady stream of normal interpretations runs beside the fuzzing
and every one of them must finish with its result.

Short mode (the regular suite): a few hundred cases. Long mode (``-m slow``): at least 10,000 message
cases plus 5,000 raw ones; ``QIANSHI_FUZZ_CASES`` sets the message cases of the long mode.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qianshi.v1 import events_pb2, interpret_service_pb2_grpc
from qianshi.v1 import interpret_service_pb2 as pb

from tests.reliability.conftest import ServerProcess, request, server_process

TOKEN = "fuzz-token"
ALLOWED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAUTHENTICATED,
}
SHORT_MESSAGES, SHORT_RAW = 300, 120
LONG_MESSAGES = max(int(os.environ.get("QIANSHI_FUZZ_CASES", "10000")), 1)
LONG_RAW = 5000
MAX_MESSAGE_BYTES = 65536
METHODS = ("Interpret", "Watch", "Cancel", "GetPoem", "ListSets")
STREAMING = {"Interpret", "Watch"}
REQUESTS = {
    "Interpret": pb.InterpretRequest,
    "Watch": pb.WatchRequest,
    "Cancel": pb.CancelRequest,
    "GetPoem": pb.GetPoemRequest,
    "ListSets": pb.ListSetsRequest,
}
RESPONSES = {
    "Interpret": events_pb2.ProgressEvent,
    "Watch": events_pb2.ProgressEvent,
    "Cancel": pb.CancelResponse,
    "GetPoem": pb.GetPoemResponse,
    "ListSets": pb.ListSetsResponse,
}
COUNTS: Counter[str] = Counter()

# --- strategies -----------------------------------------------------------------------------------------

UNICODE = st.characters(exclude_categories=("Cs",))  # protobuf strings are UTF-8: no lone surrogates
text = st.one_of(
    st.text(UNICODE, max_size=40),
    st.text(st.characters(max_codepoint=0x1F), max_size=10),  # control characters
    st.text(UNICODE, min_size=400, max_size=700),
    st.text(st.sampled_from("問事業婚姻財運健康a b?？\n\t"), min_size=1, max_size=600),
    st.just(""),
)
set_ids = st.one_of(st.sampled_from(["mazu60", "guanyin100", "guandi100", "nosuchset", "MAZU60"]), text)
int32 = st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers(-3, 130))
int64 = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-3, 200))
floats = st.one_of(st.floats(width=32), st.sampled_from([float("nan"), float("inf"), -0.0, 0.7, 2.0, 2.0001]))
task_ids = st.one_of(
    st.from_regex(r"t_[A-Za-z0-9_-]{22}", fullmatch=True),
    st.from_regex(r"t_[A-Za-z0-9_-]{0,40}", fullmatch=True),
    text,
)
questions = st.one_of(st.sampled_from(["我今年換工作會順利嗎？", "Will my marriage go well?"]), text)


@st.composite
def generation_options(draw: st.DrawFn) -> pb.GenerationOptions:
    options = pb.GenerationOptions(max_tokens=draw(st.one_of(int32, st.integers(0, 600))))
    if draw(st.booleans()):
        options.temperature = draw(floats)
    if draw(st.booleans()):
        options.seed = draw(int64)
    return options


@st.composite
def interpret_requests(draw: st.DrawFn) -> pb.InterpretRequest:
    message = pb.InterpretRequest(
        set_id=draw(set_ids),
        number=draw(int32),
        question=draw(questions),
        category=draw(st.one_of(st.sampled_from(["", "婚姻", "marriage", "功名", "bogus"]), text)),
        locale=draw(st.one_of(st.sampled_from(["", "en", "zh-Hant", "zh-TW", "fr"]), text)),
        request_id=draw(
            st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9._:-]{1,140}", fullmatch=True), text)
        ),
        disconnect_policy=draw(st.one_of(st.integers(0, 3), st.integers(-(2**31), 2**31 - 1))),
    )
    if draw(st.booleans()):
        message.options.CopyFrom(draw(generation_options()))
    if draw(st.booleans()):
        message.grace_period.seconds = draw(int64)
        message.grace_period.nanos = draw(int32)
    return message


@st.composite
def near_valid_interpret_requests(draw: st.DrawFn) -> pb.InterpretRequest:
    """A valid request with up to two fields replaced by fuzzed ones (so the deeper paths run too)."""
    message = request(
        number=draw(st.integers(1, 60)),
        locale=draw(st.sampled_from(["", "en", "zh-Hant"])),
        question=draw(st.sampled_from(["我今年換工作會順利嗎？", "婚姻能成嗎", "Will I recover soon?"])),
    )
    fuzzed = draw(interpret_requests())
    for name in draw(st.sets(st.sampled_from(INTERPRET_FIELDS), max_size=2)):
        if name in ("options", "grace_period"):
            getattr(message, name).CopyFrom(getattr(fuzzed, name))
        else:
            setattr(message, name, getattr(fuzzed, name))
    return message


INTERPRET_FIELDS = [f.name for f in pb.InterpretRequest.DESCRIPTOR.fields]
calls = st.one_of(
    st.tuples(st.just("Interpret"), interpret_requests()),
    st.tuples(st.just("Interpret"), near_valid_interpret_requests()),
    st.tuples(st.just("Interpret"), near_valid_interpret_requests()),
    st.tuples(st.just("Watch"), st.builds(pb.WatchRequest, task_id=task_ids, after_seq=int64)),
    st.tuples(st.just("Cancel"), st.builds(pb.CancelRequest, task_id=task_ids)),
    st.tuples(st.just("GetPoem"), st.builds(pb.GetPoemRequest, set_id=set_ids, number=int32)),
    st.tuples(st.just("ListSets"), st.just(pb.ListSetsRequest())),
)


@st.composite
def tokens(draw: st.DrawFn) -> str | None:
    """Mostly the right token (so most cases reach the service), else none or a wrong one."""
    pick = draw(st.integers(0, 9))
    if pick < 8:
        return TOKEN
    if pick == 8:
        return None
    return draw(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30))


@st.composite
def raw_payloads(draw: st.DrawFn) -> bytes:
    """Bytes that are not (quite) a request: noise, truncated or corrupted valid messages, oversized."""
    valid = request(request_id="x" * draw(st.integers(0, 60))).SerializeToString()
    # oversized ones are few: grpc takes ~0.2 s to refuse each (the client is still sending it)
    kind = draw(st.sampled_from(["noise", "truncated", "corrupted", "padded"] * 8 + ["oversized"]))
    if kind == "noise":
        return draw(st.binary(max_size=300))
    if kind == "truncated":
        return valid[: draw(st.integers(0, len(valid) - 1))]
    if kind == "corrupted":
        data = bytearray(valid)
        for _ in range(draw(st.integers(1, 5))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "oversized":
        return valid + b"\x52" + b"\xff\xff\x0f" + b"x" * (MAX_MESSAGE_BYTES + draw(st.integers(0, 5000)))
    return valid + draw(st.binary(min_size=1, max_size=64))  # unknown or clashing fields after it


# --- the server and the steady traffic beside the fuzzing --------------------------------------------------


class Steady:
    """Normal interpretations, one after another, on their own channel, until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.results = 0
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            stub = interpret_service_pb2_grpc.InterpretServiceStub(channel)
            while not self.stop.is_set():
                try:
                    events = list(
                        stub.Interpret(
                            request(), metadata=(("authorization", f"Bearer {TOKEN}"),), timeout=30
                        )
                    )
                except grpc.RpcError as error:
                    self.failures.append(f"{error.code()}: {error.details()}")  # type: ignore[attr-defined]
                    continue
                if events and events[-1].HasField("result"):
                    self.results += 1
                else:
                    self.failures.append(f"ended without a result: {events[-1:] or 'no events'}")


@pytest.fixture(scope="module")
def fuzzed(built_state, tmp_path_factory) -> Iterator[tuple[ServerProcess, grpc.Channel]]:
    flags = ("--grounded-pace", "0", "--tick-retrieval", "0.3", "--tick-generation", "0.3")
    flags += ("--max-message-bytes", str(MAX_MESSAGE_BYTES))
    folder = tmp_path_factory.mktemp("fuzz")
    with server_process(built_state, folder, *flags, env={"QIANSHI_AUTH_TOKENS": TOKEN}) as proc:
        steady = Steady(proc.port)
        steady.thread.start()
        with grpc.insecure_channel(f"127.0.0.1:{proc.port}") as channel:
            yield proc, channel
            steady.stop.set()
            steady.thread.join(60)
            assert not steady.failures, steady.failures[:5]
            assert steady.results >= 1
            final = list(
                interpret_service_pb2_grpc.InterpretServiceStub(channel).Interpret(
                    request(), metadata=(("authorization", f"Bearer {TOKEN}"),), timeout=30
                )
            )
            assert final[-1].HasField("result"), "the server no longer answers a normal request"
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
        assert proc.alive(), "the server died"
    assert proc.process is not None and proc.process.returncode == 0, proc.stderr[-3000:]
    for bad in ("Traceback", "Unexpected", "internal error", "Exception"):
        assert bad not in proc.stderr, proc.stderr[-3000:]
    print(f"\nfuzz cases run: {dict(COUNTS)}; steady interpretations beside them: {steady.results}")


def _call(channel: grpc.Channel, method: str, payload: bytes, metadata: Any) -> grpc.StatusCode:
    """Send ``payload`` as the request of ``method``; a stream is cancelled after its first event."""
    path = f"/qianshi.v1.InterpretService/{method}"
    decode = RESPONSES[method].FromString
    try:
        if method in STREAMING:
            stream = channel.unary_stream(path, request_serializer=None, response_deserializer=decode)(
                payload, metadata=metadata, timeout=15
            )
            for _ in stream:
                stream.cancel()  # valid: it started; enough
                return grpc.StatusCode.OK
            return grpc.StatusCode.OK
        channel.unary_unary(path, request_serializer=None, response_deserializer=decode)(
            payload, metadata=metadata, timeout=15
        )
    except grpc.RpcError as error:
        code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
        if code == grpc.StatusCode.CANCELLED and method in STREAMING:
            return grpc.StatusCode.OK  # our own cancel after the first event
        if code not in ALLOWED:
            pytest.fail(f"{method}: {code} {error.details()}")  # type: ignore[attr-defined]
        return code
    return grpc.StatusCode.OK


def _metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    return () if token is None else (("authorization", f"Bearer {token}"),)


FUZZ_SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
}


def _messages(cases: int) -> Any:
    @settings(max_examples=cases, **FUZZ_SETTINGS)
    @given(call=calls, token=tokens())
    def run(fuzzed: tuple[ServerProcess, grpc.Channel], call: tuple[str, Any], token: str | None) -> None:
        method, message = call
        code = _call(fuzzed[1], method, message.SerializeToString(), _metadata(token))
        COUNTS["messages"] += 1
        COUNTS[f"messages:{code.name}"] += 1

    return run


def _raw(cases: int) -> Any:
    @settings(max_examples=cases, **FUZZ_SETTINGS)
    @given(method=st.sampled_from(METHODS), payload=raw_payloads())
    def run(fuzzed: tuple[ServerProcess, grpc.Channel], method: str, payload: bytes) -> None:
        code = _call(fuzzed[1], method, payload, _metadata(TOKEN))
        COUNTS["raw"] += 1
        COUNTS[f"raw:{code.name}"] += 1
        if len(payload) > MAX_MESSAGE_BYTES:
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED

    return run


def test_fuzzed_messages(fuzzed):
    _messages(SHORT_MESSAGES)(fuzzed)


def test_fuzzed_raw_bytes(fuzzed):
    _raw(SHORT_RAW)(fuzzed)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_fuzzed_messages_long(fuzzed):
    _messages(LONG_MESSAGES)(fuzzed)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_fuzzed_raw_bytes_long(fuzzed):
    _raw(LONG_RAW)(fuzzed)


def test_malformed_bytes_are_invalid_argument_not_unknown(fuzzed):
    """grpcio alone answers UNKNOWN with the parser's exception text; the server says INVALID_ARGUMENT."""
    for method in METHODS[:4]:
        for payload in (b"\xff\xff\xff", b"\x0a\x05ab", b"\x0a\x02\xff\xfe"):  # corrupt, truncated, bad UTF-8
            assert _call(fuzzed[1], method, payload, _metadata(TOKEN)) == grpc.StatusCode.INVALID_ARGUMENT
