"""How the web API reports errors: JSON ``{"error": ..., "field": ...}`` with the right status.

:class:`ApiError` is an error the API reports as it stands; :func:`blame` turns a library
:class:`gmnet.errors.GmnetError` raised inside a block into one naming a request field;
:func:`field_of_question` finds the field a library error is about; :func:`install_handlers`
adds the exception handlers that turn every error (a request that does not validate, an unknown
page, a bug) into such a body. Statuses: 422 for a request that does not validate (unknown
variable or state, wrong type, impossible evidence, a query that does not parse), 404 for an
unknown network, scenario or worldview, 400 for other invalid arguments, 503 when Graphviz is
missing.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gmnet.errors import (
    GmnetError,
    ImpossibleEvidenceError,
    NetworkFileError,
    QuerySyntaxError,
    UnknownNameError,
    clip_message,
)
from gmnet.model.question import Question
from gmnet.web.models import ErrorBody

__all__ = ["ApiError", "ERROR_RESPONSES", "blame", "field_of_question", "install_handlers",
           "message_of", "status_of"]

ERROR_RESPONSES = {code: {"model": ErrorBody} for code in (400, 404, 413, 422, 503, 504)}


class ApiError(Exception):
    """An error the API reports as JSON: HTTP status, message, and the request field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None,
                 detail: Any = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.detail = detail

    def __reduce__(self):  # raised in a worker process, re-raised in the server's
        return (type(self), (self.status, self.message, self.field, self.detail))

    def body(self) -> dict:
        out: dict[str, Any] = {"error": self.message, "field": self.field}
        if self.detail is not None:
            out["detail"] = self.detail
        return out


def status_of(exc: GmnetError) -> int:
    """The HTTP status a library error is reported with."""
    if type(exc).__name__ == "DotNotFoundError":  # no Graphviz here: not the client's fault
        return 503
    if isinstance(exc, UnknownNameError):
        return 404 if exc.kind in ("network", "network file", "scenario", "worldview") else 422
    if isinstance(exc, QuerySyntaxError | ImpossibleEvidenceError):
        return 422
    if isinstance(exc, NetworkFileError):
        return 422
    return 400


def message_of(exc: GmnetError) -> str:
    """A library error's message as the API reports it (one line, clipped)."""
    if isinstance(exc, NetworkFileError):
        return clip_message(exc.one_line())
    return clip_message(str(exc))


def _malformed_body(errors: Sequence[Mapping[str, Any]]) -> str | None:
    """What is wrong with a request body that is not a JSON object at all (syntax error,
    another JSON type, an empty body), or None for an object whose fields are wrong."""
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            reason = ctx.get("error") or "JSON decode error"
            return clip_message(f"the request body is not valid JSON ({reason}, at character "
                                f"{loc[1] if len(loc) > 1 else 0}); send one JSON object")
        if loc == ("body",):
            got = error.get("input")
            kind = {list: "an array", str: "a string", int: "a number", float: "a number",
                    bool: "true or false", type(None): "null or nothing"}.get(type(got))
            if error.get("type") == "missing":
                kind = "nothing"
            return (f"the request body must be a JSON object (with Content-Type: "
                    f"application/json), got {kind or 'something else'}")
    return None


@contextlib.contextmanager
def blame(field_name: str | None) -> Iterator[None]:
    """Report a GmnetError raised inside the block as an ApiError naming ``field_name``."""
    try:
        yield
    except ApiError:
        raise
    except GmnetError as exc:
        raise ApiError(status_of(exc), message_of(exc), field_name) from exc



_FIELD_OF_KIND = {"scenario": "scenario", "worldview": "worldview",
                  "critical unknown": "unknowns", "mitigation": "do"}


def field_of_question(exc: GmnetError, question: Question) -> str | None:
    """The request field a library error is about: by the kind of name it does not know, or
    the first evidence or do() variable its message names (the message says the rest)."""
    message = str(exc)
    if isinstance(exc, ImpossibleEvidenceError):
        return "evidence"
    if message.startswith("critical unknown") or (
            isinstance(exc, UnknownNameError) and exc.kind == "critical unknown"
            and any(k in message for k in question.unknowns)):
        return "fixed_unknowns"
    if isinstance(exc, UnknownNameError) and exc.kind in _FIELD_OF_KIND:
        return _FIELD_OF_KIND[exc.kind]
    if message.startswith(("scenario", "worldview")) and not any(
            message.startswith(f"evidence {v}=") for v in question.evidence):
        return "scenario" if message.startswith("scenario") else "worldview"
    if isinstance(exc, UnknownNameError) and exc.kind == "parameter":
        return "parameters"
    if message.startswith(("set ", "override of ")):
        return "parameters"
    found = []
    for kind, assignments in (("evidence", question.evidence), ("do", question.do)):
        for var in assignments:
            match = re.search(rf"(?<![A-Za-z0-9_]){re.escape(var)}(?![A-Za-z0-9_])", message)
            if match:
                found.append((match.start(), f"{kind}.{var}"))
    return min(found)[1] if found else None


def install_handlers(app: FastAPI) -> None:
    """Add to ``app`` the handlers that report every error as a JSON error body."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(GmnetError)
    async def gmnet_error(request: Request, exc: GmnetError):
        # raised by a library call after the request's names were checked
        field_name = "evidence" if isinstance(exc, ImpossibleEvidenceError) else None
        return JSONResponse({"error": message_of(exc), "field": field_name},
                            status_code=status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        malformed = _malformed_body(errors)
        if malformed is not None:
            return JSONResponse({"error": malformed, "field": "body"}, status_code=400)
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        name = _field_of(first.get("loc", ()))
        message = first.get("msg", "invalid request")
        if first.get("type") == "extra_forbidden":
            message = "unknown field"
        elif first.get("type") == "missing":
            message = "required field is missing"
        text = clip_message(f"{name}: {message}" if name else message)
        detail = [{"field": _field_of(e.get("loc", ())), "message": e.get("msg")}
                  for e in errors]
        return JSONResponse({"error": text, "field": name, "detail": detail}, status_code=422)

    def _field_of(loc) -> str | None:
        # the location's first part says where the value came from (the body, the query
        # string, the path); the rest names the field, whatever its name ("query" included)
        parts = [str(x) for x in loc]
        if parts and parts[0] in ("body", "query", "path"):
            parts = parts[1:]
        return ".".join(parts) or None

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        text = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 400 and text == "There was an error parsing the body":
            return JSONResponse({"error": "the request body cannot be read as JSON (nested too "
                                 "deeply, or not UTF-8 text); send one JSON object",
                                 "field": "body"}, status_code=400)
        if exc.status_code == 404:
            text = f"no such page or endpoint: {request.url.path}"
        elif exc.status_code == 405:
            text = f"{request.method} is not allowed on {request.url.path}"
        return JSONResponse({"error": text, "field": None}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):  # pragma: no cover - a bug
        return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}",
                             "field": None}, status_code=500)
