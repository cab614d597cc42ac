"""Who is calling: the bearer token a browser sends, and where a state-changing request comes from.

The gateway checks no token itself: it passes the caller's token on to the gRPC server as
``authorization: Bearer <token>`` and the server decides (UNAUTHENTICATED becomes 401). A browser
can send the token three ways, because ``EventSource`` cannot set headers:

1. ``Authorization: Bearer <token>`` (fetch, curl, other services);
2. the token cookie (``--token-cookie``; EventSource sends cookies);
3. a ``token`` query parameter (for pages that cannot set a cookie; it ends up in URLs, so prefer
   short-lived tokens there — the gateway does not write access logs for this reason).

Typed web clients (gRPC-Web and Connect, ``rpc.py``) send the header, set by an interceptor, or the
cookie; their requests carry a protobuf body under a fixed path, so the query parameter is not read there.

Cookies are sent by the browser to any site's request, so a state-changing request (POST) that
carries an ``Origin`` must come from the gateway's own origin or one of ``--cors-origins``. The typed
clients' requests need no such check: every content type they are accepted with (``application/
grpc-web+proto``, ``application/connect+json``, ``application/proto`` …) makes a browser ask first
(a CORS preflight), which only ``--cors-origins`` answers, and anything else is refused (415) before
a call is made.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import grpc
from qianshi.server.gateway.errors import GatewayError
from starlette.requests import Request

Metadata = tuple[tuple[str, str], ...]

# A token must survive as a gRPC metadata value: printable ASCII without spaces (RFC 6750's b64token
# is narrower still; the server decides what it accepts).
_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")


def bearer_metadata(request: Request, cookie_name: str) -> Metadata:
    """The call metadata that carries the caller's token, or nothing when it sent none."""
    cookie = request.cookies.get(cookie_name) if cookie_name else None
    return token_metadata(request.headers.get("authorization"), cookie, request.query_params.get("token"))


def token_metadata(
    authorization: str | None, cookie: str | None = None, query: str | None = None
) -> Metadata:
    """The call metadata for a token sent as an ``Authorization`` header, a cookie or a query
    parameter (in that order of precedence); nothing when none was sent."""
    token = _token(authorization, cookie, query)
    if token is None:
        return ()
    if not _TOKEN.fullmatch(token):
        raise GatewayError(grpc.StatusCode.UNAUTHENTICATED, "the token is malformed")
    return (("authorization", f"Bearer {token}"),)


def _token(authorization: str | None, cookie: str | None, query: str | None) -> str | None:
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise GatewayError(grpc.StatusCode.UNAUTHENTICATED, "Authorization must be 'Bearer <token>'")
        return value.strip()
    return cookie or query or None


def check_origin(request: Request, allowed: Collection[str]) -> None:
    """Refuse (403) a request whose ``Origin`` is neither the gateway's own nor an allowed one."""
    origin = request.headers.get("origin")
    if origin is None:
        return  # not sent by a browser's cross-site machinery (curl, same-origin GET forms)
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin == own or origin in allowed or "*" in allowed:
        return
    raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, f"requests from {origin} are not allowed")
