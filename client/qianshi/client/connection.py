"""What both clients share about talking to a server: credentials, call metadata, retry policy.

Retries. The only failure retried automatically is a stream that fails with one of
``RetryPolicy.codes`` (CANCELLED by default) *before its first event arrived*: opening thousands of
streams in one burst makes some fail that way (FACTS.md), and re-sending the same request is safe
because a request with the same ``request_id`` re-attaches to the task on the server. Once an
event has arrived a stream is never re-sent: ``follow`` resumes it through ``Watch`` instead, from
the last seq it delivered, so that every event is delivered exactly once.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc

__all__ = ["DEFAULT_TARGET", "Metadata", "RetryPolicy", "call_metadata", "channel_credentials"]

DEFAULT_TARGET = "127.0.0.1:50051"

#: Call metadata: ``(key, value)`` pairs, keys in lower case.
Metadata = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how fast to re-send a stream that failed before its first event, or to resume one.

    ``attempts`` re-sends after the first try (0 disables them); ``resumes`` is how many times in a
    row ``follow`` re-attaches a broken stream without receiving an event in between. The pause
    before retry *n* (0-based) is ``initial_backoff * multiplier**n``, capped at ``max_backoff``,
    with ± ``jitter`` (a fraction) spread so that a burst of failed streams does not retry in step.
    """

    attempts: int = 3
    resumes: int = 5
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
