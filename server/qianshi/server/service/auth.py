"""Bearer-token authentication and the caller identity that owns tasks.

Callers send ``authorization: Bearer <token>`` metadata. The server keeps only SHA-256 hashes of the
tokens it accepts, from two sources, both optional (authentication is on when either gives a token):

- ``--auth-tokens-file PATH``: one token per line as ``sha256:<64 hex>``, or ``NAME sha256:<64 hex>``
  to give the caller a name (its identity in logs and as the owner of its tasks); blank lines and
  ``#`` comments are ignored. ``python -m qianshi.server.service.auth hash TOKEN`` prints the line.
- ``QIANSHI_AUTH_TOKENS``: comma-separated plain tokens (for a secret store that injects the
  environment); hashed at load, never kept.

``AuthInterceptor`` rejects a call without a valid token with UNAUTHENTICATED before its handler runs
(health checks and reflection may stay open: ``--auth-open-health`` / ``--auth-open-reflection``).
The presented token's hash is compared with every known hash in constant time (``hmac.compare_digest``,
no early exit), so the comparison does not reveal how much of a hash matched. ``TokenSet.identify``
is the service's ``Identify``: the caller's name, or ``sha256:<first 16 hex>`` of its token; a task is
found, watched and cancelled only under the identity that started it, so another token's caller gets
NOT_FOUND for it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from qianshi.server.errors import Unauthenticated
from qianshi.server.service.status import from_error, to_grpc

HEALTH_PREFIX = "/grpc.health.v1.Health/"
REFLECTION_PREFIXES = ("/grpc.reflection.v1alpha.ServerReflection/", "/grpc.reflection.v1.ServerReflection/")
_LINE = re.compile(r"(?:(?P<name>[A-Za-z0-9._@:-]{1,64})\s+)?sha256:(?P<hex>[0-9a-fA-F]{64})")


@dataclass(frozen=True, slots=True)
class Token:
    """One accepted token: its SHA-256 digest and the caller identity it stands for."""

    identity: str
    digest: bytes


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def hash_line(token: str) -> str:
    """The tokens-file line for ``token`` (``sha256:<hex>``)."""
    return "sha256:" + digest(token).hex()


def _unnamed(raw: bytes) -> str:
    return "sha256:" + raw.hex()[:16]


def parse_tokens_file(text: str, source: str = "tokens file") -> list[Token]:
    """The tokens of a tokens file; ``ValueError`` naming the line for anything malformed."""
    tokens: list[Token] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"{source}, line {number}: expected 'sha256:<64 hex>' or 'NAME sha256:<64 hex>'")
        raw = bytes.fromhex(match["hex"])
        tokens.append(Token(match["name"] or _unnamed(raw), raw))
    return tokens


def parse_plain_tokens(value: str) -> list[Token]:
    """Tokens given in clear (``QIANSHI_AUTH_TOKENS``), hashed at once."""
    return [Token(_unnamed(digest(t)), digest(t)) for t in (p.strip() for p in value.split(",")) if t]


def bearer(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The token of an ``authorization: Bearer <token>`` entry, if there is one."""
    for key, value in metadata or ():
        if key.lower() != "authorization":
            continue
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        scheme, _, token = text.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


class TokenSet:
    """The accepted tokens. Empty: authentication is off and every caller is anonymous ("")."""

    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens = tuple(tokens)

    @classmethod
    def load(cls, path: str = "", plain: str = "") -> TokenSet:
        """From a tokens file and/or plain tokens; ``ValueError`` for an unreadable or malformed file."""
        tokens: list[Token] = []
        if path:
            try:
                text = Path(path).expanduser().read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"cannot read --auth-tokens-file {path}: {exc.strerror}") from None
            tokens += parse_tokens_file(text, path)
        tokens += parse_plain_tokens(plain)
        return cls(tokens)

    @property
    def enabled(self) -> bool:
        return bool(self.tokens)

    def match(self, token: str | None) -> Token | None:
        """The known token equal to ``token``; every hash is compared, in constant time each."""
        if token is None:
            return None
        presented = digest(token)
        found: Token | None = None
        for known in self.tokens:
            if hmac.compare_digest(presented, known.digest) and found is None:
                found = known
        return found

    def identify(self, context: grpc.aio.ServicerContext) -> str:
        """The identity of the caller (``Identify`` of the service); "" when authentication is off."""
        if not self.enabled:
            return ""
        found = self.match(bearer(context.invocation_metadata()))
        if found is None:  # the interceptor let it through: an open method, or auth added since
            raise Unauthenticated("a valid bearer token is required", reason="UNAUTHENTICATED")
        return found.identity


Behavior = Callable[..., Any]


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Rejects calls without a valid bearer token with UNAUTHENTICATED (except the open methods)."""

    def __init__(self, tokens: TokenSet, *, open_health: bool = True, open_reflection: bool = True) -> None:
        self.tokens = tokens
        prefixes: list[str] = []
        if open_health:
            prefixes.append(HEALTH_PREFIX)
        if open_reflection:
            prefixes.extend(REFLECTION_PREFIXES)
        self.open_prefixes = tuple(prefixes)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(self.open_prefixes):
            return handler
        if self.tokens.match(bearer(details.invocation_metadata)) is not None:
            return handler
        for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
            if getattr(handler, kind) is not None:
                return handler._replace(**{kind: _deny})
        return handler


async def _deny(_request: object, context: grpc.aio.ServicerContext) -> None:
    error = Unauthenticated("a valid bearer token is required (authorization: Bearer <token>)")
    await context.abort_with_status(to_grpc(from_error(error)))


def interceptors(
    tokens: TokenSet, *, open_health: bool, open_reflection: bool
) -> list[grpc.aio.ServerInterceptor]:
    """The interceptors authentication needs: none when it is off."""
    if not tokens.enabled:
        return []
    return [AuthInterceptor(tokens, open_health=open_health, open_reflection=open_reflection)]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m qianshi.server.service.auth hash TOKEN [NAME]``: print a tokens-file line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3) or args[0] != "hash":
        print("usage: python -m qianshi.server.service.auth hash TOKEN [NAME]", file=sys.stderr)
        return 2
    line = hash_line(args[1])
    print(f"{args[2]} {line}" if len(args) == 3 else line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
