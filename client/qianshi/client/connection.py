"""What both clients share about talking to a server: targets, credentials, call metadata, retries.

Targets. A client is given one address (``host:port``, or any gRPC target such as
``dns:///qianshi.example:50051`` or ``ipv4:10.0.0.1:50051,10.0.0.2:50051``) or several
(``"a:50051,b:50051"`` or a list). Every channel the
client makes uses gRPC's ``round_robin`` policy unless ``channel_options`` choose another, so a name
that resolves to several replicas spreads calls over them and skips one that went away. With several
targets the client keeps one channel per target and uses one at a time; it moves to the next when a
call fails UNAVAILABLE before its first event (a stream, re-sent with the same ``request_id``), when a
unary call fails UNAVAILABLE, and when ``follow`` resumes a broken stream.

Retries. The only failure retried automatically is a stream that fails with one of
``RetryPolicy.codes`` (CANCELLED by default) *before its first event arrived*: opening thousands of
streams in one burst makes some fail that way (FACTS.md), and re-sending the same request is safe
because a request with the same ``request_id`` re-attaches to the task on the server. Once an
event has arrived a stream is never re-sent: ``follow`` resumes it through ``Watch`` instead, from
the last seq it delivered, so that every event is delivered exactly once.

Restarts. ``follow`` sends the same request again — same ``request_id``, which then names a new task —
when its task can no longer finish: a terminal error with reason REPLICA_LOST or TASK_LOST (the
server running it died or stopped reporting), SERVER_DRAINING (it shut down), EVENT_LOG_UNAVAILABLE
or EVENT_LOG_LOST (the shared log failed under it), or a resume that finds the task's log gone
(UNAVAILABLE with reason EVENT_LOG_LOST, or NOT_FOUND). The server gives the
request id back with such a task, so the retry starts afresh rather than re-attaching to it. The new
task's events follow with a new ``task_id`` and ``seq`` from 1: a reader that shows the text starts it
over when the ``task_id`` changes. At most ``RetryPolicy.restarts`` times per call.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from qianshi.client import errors
from qianshi.v1 import events_pb2

__all__ = [
    "DEFAULT_TARGET",
    "RESTART_REASONS",
    "Metadata",
    "RetryPolicy",
    "Targets",
    "call_metadata",
    "channel_credentials",
    "channel_options",
]

DEFAULT_TARGET = "127.0.0.1:50051"

RESTART_REASONS = frozenset(
    {"REPLICA_LOST", "TASK_LOST", "SERVER_DRAINING", "EVENT_LOG_UNAVAILABLE", "EVENT_LOG_LOST"}
)
"""Error reasons after which ``follow`` sends the request again (see Restarts above)."""

#: Call metadata: ``(key, value)`` pairs, keys in lower case.
Metadata = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how fast to re-send a stream that failed before its first event, or to resume one.

    ``attempts`` re-sends after the first try (0 disables them); ``resumes`` is how many times in a
    row ``follow`` re-attaches a broken stream without receiving an event in between; ``restarts``
    is how many times ``follow`` sends the request again after its task was lost. The pause
    before retry *n* (0-based) is ``initial_backoff * multiplier**n``, capped at ``max_backoff``,
    with ± ``jitter`` (a fraction) spread so that a burst of failed streams does not retry in step.
    """

    attempts: int = 3
    resumes: int = 5
    restarts: int = 3
    initial_backoff: float = 0.1
    max_backoff: float = 2.0
    multiplier: float = 2.0
    jitter: float = 0.2
    codes: frozenset[grpc.StatusCode] = field(default_factory=lambda: frozenset({grpc.StatusCode.CANCELLED}))

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        delay = min(self.max_backoff, self.initial_backoff * self.multiplier**retry)
        if delay <= 0:
            return 0.0
        return max(0.0, delay * (1 + random.uniform(-self.jitter, self.jitter)))

    def retries_first_event(self, code: grpc.StatusCode, retry: int) -> bool:
        """True when a stream that failed with ``code`` before any event may be re-sent again."""
        return code in self.codes and retry < self.attempts


class Targets:
    """The addresses a client may use and the one it uses now (see Targets above)."""

    def __init__(self, target: str | Sequence[str]) -> None:
        if isinstance(target, str):
            # gRPC's own address lists (``ipv4:a:1,b:2``) are one target: one channel balances them.
            parts = [target] if target.startswith(("ipv4:", "ipv6:")) else target.split(",")
        else:
            parts = list(target)
        self.all = tuple(p.strip() for p in parts if p.strip())
        if not self.all:
            raise ValueError("no server address given")
        self.index = 0

    @property
    def current(self) -> str:
        return self.all[self.index]

    def rotate(self) -> bool:
        """Move to the next target; False when there is only one."""
        if len(self.all) < 2:
            return False
        self.index = (self.index + 1) % len(self.all)
        return True

    def moves_on(self, code: grpc.StatusCode, moved: int) -> bool:
        """After a call failed with ``code`` having moved ``moved`` times: move to the next target
        and say so when the call may be tried there (UNAVAILABLE; each other target once)."""
        return code == grpc.StatusCode.UNAVAILABLE and moved < len(self.all) - 1 and self.rotate()


def channel_options(options: Iterable[tuple[str, object]]) -> list[tuple[str, object]]:
    """``options`` plus the ``round_robin`` load-balancing policy unless they choose one."""
    chosen = list(options)
    if not any(key in ("grpc.lb_policy_name", "grpc.service_config") for key, _ in chosen):
        chosen.append(("grpc.lb_policy_name", "round_robin"))
    return chosen


def _read(path: str | Path | None) -> bytes | None:
    return None if path is None else Path(path).read_bytes()


def channel_credentials(
    root_certificates: str | Path | None = None,
    client_cert: str | Path | None = None,
    client_key: str | Path | None = None,
) -> grpc.ChannelCredentials:
    """TLS credentials from PEM files: the CA to trust (the system's when None), and optionally a
    client certificate and key for mutual TLS."""
    if (client_cert is None) != (client_key is None):
        raise ValueError("client_cert and client_key go together")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(root_certificates),
        private_key=_read(client_key),
        certificate_chain=_read(client_cert),
    )


def call_metadata(
    token: str | None, default: Metadata | None, extra: Metadata | None = None
) -> tuple[tuple[str, str], ...]:
    """The metadata of one call: the client's default metadata, the call's extra metadata, and
    ``authorization: Bearer <token>`` unless one of the other two already carries an authorization."""
    pairs: list[tuple[str, str]] = [*(default or ()), *(extra or ())]
    if token and not _has_key(pairs, "authorization"):
        pairs.append(("authorization", f"Bearer {token}"))
    return tuple(pairs)


def _has_key(pairs: Iterable[tuple[str, str]], key: str) -> bool:
    return any(k.lower() == key for k, _ in pairs)


def lost_reason(event: events_pb2.ProgressEvent) -> str:
    """The reason of a terminal error event that ends a lost task ("" for any other event)."""
    if not event.HasField("error"):
        return ""
    reason = errors.from_error_event(event).reason
    return reason if reason in RESTART_REASONS else ""


def log_lost(exc: errors.QianshiClientError, *, resuming: bool) -> str:
    """Why a failed call means the task's log is gone (then the request is sent again), or ""."""
    if isinstance(exc, errors.NotFound):
        return "TASK_NOT_FOUND" if resuming else ""
    return exc.reason if exc.reason == "EVENT_LOG_LOST" else ""
