"""The local web app behind ``gmnet serve``: a JSON API and one page (needs ``gmnet[web]``)."""

from __future__ import annotations

from typing import Any

from gmnet.errors import GmnetError

__all__ = ["create_app"]


def create_app(*args: Any, **kwargs: Any) -> Any:
    """The gmnet web app (FastAPI); see :func:`gmnet.web.app.create_app` for the options."""
    try:
        import fastapi  # noqa: F401
    except ImportError:
        raise GmnetError("the web app needs FastAPI; install it with "
                         "pip install 'gmnet[web]' (fastapi, uvicorn)") from None
    from gmnet.web.app import create_app as _create_app

    return _create_app(*args, **kwargs)
