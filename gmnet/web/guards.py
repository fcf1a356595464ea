"""ASGI-level guards of the web app, applied before a request reaches a route.

- :class:`BodyLimit`: a request body over the byte limit is refused with 413 before the app
  reads it; a Content-Length that is not a number, or a JSON body giving one key twice, with
  400 naming it;
- :class:`Guard`: a Host header not in the allowed list (DNS rebinding) is refused with 400;
  every response gets a strict Content-Security-Policy and the other security headers, and API
  responses ``Cache-Control: no-store``.

Both answer with the API's JSON error body (:class:`gmnet.web.errors.ApiError`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gmnet.errors import clip_message
from gmnet.web.errors import ApiError

__all__ = ["BodyLimit", "Guard", "MAX_BODY_BYTES", "LOOPBACK_HOSTS"]

MAX_BODY_BYTES = 64 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'")


class BodyLimit:
    """Reject request bodies over ``limit`` bytes with 413, before the app reads them."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_big = ApiError(413, f"the request body is over the limit of {self.limit} bytes",
                           "body")
        if declared is not None:
            try:
                if int(declared) > self.limit:
                    return await _send_json(send, too_big.status, too_big.body())
            except ValueError:
                bad = ApiError(400, "the Content-Length header is not a number", "body")
                return await _send_json(send, 400, bad.body())
        chunks: list[bytes] = []
        size = 0
        more = scope["method"] in ("POST", "PUT", "PATCH")
        disconnected = False
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await _send_json(send, too_big.status, too_big.body())
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        duplicate = _duplicate_key(body)
        if duplicate is not None:
            bad = ApiError(400, f"the request body gives {duplicate!r} twice; give each field "
                           "once", duplicate)
            return await _send_json(send, 400, bad.body())
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                if disconnected:
                    return {"type": "http.disconnect"}
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def _duplicate_key(body: bytes) -> str | None:
    """The first key given twice in one object of a JSON body (dotted from the top), or None
    (also for a body that is not JSON: the validation reports that)."""

    class _Twice(Exception):
        pass

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                raise _Twice(key)
            seen[key] = value
        return seen

    if not body.strip().startswith(b"{"):
        return None
    try:
        json.loads(body, object_pairs_hook=pairs)
    except _Twice as exc:
        return clip_message(str(exc.args[0]), 120)
    except (ValueError, RecursionError):
        return None
    return None


class Guard:
    """Reject unknown Host headers (DNS rebinding); add security headers to every response."""

    def __init__(self, app, allowed_hosts: Sequence[str] | None):
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.allowed is not None:
            raw = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            host = _host_of(raw)
            if host not in self.allowed:
                error = ApiError(400, f"host {host!r} is not served here; use one of: "
                                 f"{', '.join(sorted(self.allowed))}", "host")
                return await _send_json(send, error.status, error.body())
        api = scope.get("path", "").startswith("/api/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                extra = [(b"content-security-policy", _CSP.encode()),
                         (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"),
                         (b"x-frame-options", b"DENY")]
                if api:
                    extra.append((b"cache-control", b"no-store"))
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


async def _send_json(send, status: int, payload: dict) -> None:
    data = json.dumps(payload).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode("ascii")),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


def _host_of(header: str) -> str:
    header = header.strip().lower()
    if header.startswith("["):  # [::1]:8000
        return header[1:header.index("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header
