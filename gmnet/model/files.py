"""Shape validation shared by every data file (networks, scenarios, worldviews): a typed
pydantic model, and its errors turned into problems that name the file's item and key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from gmnet.errors import NetworkFileError
from gmnet.model.inputs import note_input

__all__ = ["validate_shape", "validation_problems", "load_cached"]

Model = TypeVar("Model", bound=pydantic.BaseModel)

# the discriminator tags pydantic inserts in the locations of a tagged union (CPT kinds)
_UNION_TAGS = ("uniform", "prior", "expression", "table", "calibrated_route")


def validate_shape(data: Any, model: type[Model], *, path: str, labels: Mapping[str, str],
                   top_level: str) -> Model:
    """``data`` validated as ``model``, or a NetworkFileError listing every problem.

    ``labels`` names the items of the file's collections (e.g. {"nodes": "node"}), so that a
    problem reads "node 'harm': states: required key is missing"; ``top_level`` says what the
    file's top level must hold (e.g. "'name' and 'nodes'").
    """
    if not isinstance(data, dict):
        raise NetworkFileError(path, [f"top level: expected a mapping with {top_level}, "
                                      f"got {type(data).__name__}"])
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise NetworkFileError(path, validation_problems(exc, labels)) from None


def validation_problems(exc: pydantic.ValidationError, labels: Mapping[str, str]) -> list[str]:
    """One line per pydantic error: where (item and key) and what is wrong."""
    problems = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        if "cpt" in loc:
            loc = [x for x in loc if x not in _UNION_TAGS]
        if len(loc) >= 2 and loc[0] in labels:
            where = f"{labels[loc[0]]} {loc[1]!r}" + (": " + ".".join(loc[2:])
                                                       if len(loc) > 2 else "")
        else:
            where = ".".join(loc) or "top level"
        message = {"extra_forbidden": "unknown key",
                   "missing": "required key is missing"}.get(err["type"], err["msg"])
        if err["type"] == "value_error" and (err.get("ctx") or {}).get("error") is not None:
            message = str(err["ctx"]["error"])  # our own validators' words, without a prefix
        problems.append(f"{where}: {message}")
    return problems


Loaded = TypeVar("Loaded")


def load_cached(path: str | Path | None, default: Path, kind: str,
                load: Callable[[Path, Any], Loaded], network: Any,
                cache: dict[tuple[str, int], Loaded]) -> Loaded:
    """Load a data file checked against ``network`` with ``load(path, network)``.

    Without a network to check against (the file names its own), the result is cached per file
    and modification time, so repeated commands do not re-validate an unchanged file.
    """
    target = Path(path) if path is not None else default
    if not target.is_file():
        raise NetworkFileError(str(target), [f"no such {kind} file"])
    note_input(target)
    key = (str(target.resolve()), target.stat().st_mtime_ns)
    if network is None and key in cache:
        return cache[key]
    loaded = load(target, network)
    if network is None:
        cache[key] = loaded
    return loaded
