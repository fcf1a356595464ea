"""The batched engine's chunks on a Dask cluster (``BatchedQuery.run(..., scheduler=...)``).

A long batched run is a list of independent chunks of draws (:mod:`gmnet.inference.batched`).
Here they run on the workers of a Dask cluster instead of on this process's threads:

1. the plan (the :class:`~gmnet.inference.batched.BatchedQuery`, which holds the network) is
   sent to every worker once;
2. each chunk's draws of the parameters the answer can depend on are sent to one worker, which
   computes the chunk exactly as a local thread would (the same code, the same chunk
   boundaries, the same contraction path);
3. the answers come back and are put in order; at most a few chunks per worker thread are in
   flight, so memory on both sides stays bounded however many draws there are.

The draws themselves are sampled here, by the caller, from the same seeds and streams as a local
run, so the numbers are the same as a local run's (to the bit, when the workers run the same
numpy on the same kind of CPU). docs/distributed.md shows how to start a cluster.

Dask is optional (``pip install 'gmnet[dask]'``); it is imported only when a scheduler is
given.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from gmnet.errors import GmnetError, InvalidArgumentError

if TYPE_CHECKING:
    from gmnet.inference.batched import BatchedQuery

__all__ = ["connect", "run_on_cluster", "CONNECT_TIMEOUT", "CHUNKS_PER_THREAD"]

# Seconds to wait for a scheduler to answer, and for it to have a worker.
CONNECT_TIMEOUT = 10.0
# Chunks in flight per worker thread: enough to keep every thread busy while answers travel.
CHUNKS_PER_THREAD = 2
# Chunks between two looks at how many worker threads there are (a cluster may grow or shrink).
_RECOUNT_EVERY = 16

_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
_INSTALL = "pip install 'gmnet[dask]' (Dask's distributed scheduler)"


def connect(scheduler: Any, *, what: str = "scheduler",
            timeout: float | None = None) -> Any:
    """A ``dask.distributed.Client`` for ``scheduler``: an address or a Client (returned as is).

    ``what`` names the setting in messages (the CLI passes ``"--scheduler"``). Raises
    :class:`~gmnet.errors.InvalidArgumentError` naming the problem when Dask is not installed,
    the address is malformed, nothing answers there within ``timeout`` seconds (default
    :data:`CONNECT_TIMEOUT`), or the scheduler has no workers; it never hangs.
    """
    try:
        from distributed import Client
    except ImportError as exc:
        raise InvalidArgumentError(
            f"{what}: running on a Dask cluster needs Dask, which is not installed here "
            f"({exc}); {_INSTALL}, or leave {what} out to run here") from None
    if isinstance(scheduler, Client):
        if scheduler.asynchronous or scheduler.status not in ("running", "connecting"):
            state = "asynchronous" if scheduler.asynchronous else scheduler.status
            raise InvalidArgumentError(
                f"{what}: the Client given is {state}; pass a running, synchronous "
                "dask.distributed.Client, or the scheduler's address")
        _check_workers(scheduler, what, timeout)
        return scheduler
    if not isinstance(scheduler, str):
        raise InvalidArgumentError(
            f"{what} must be a scheduler address such as 'tcp://10.0.0.5:8786' or a "
            f"dask.distributed.Client, got {type(scheduler).__name__}")
    address = _check_address(scheduler.strip(), what)
    wait = CONNECT_TIMEOUT if timeout is None else float(timeout)
    client = _quiet_client(Client, address, what, wait, listening=_reachable(address, what, wait))
    try:
        _check_workers(client, what, timeout)
    except BaseException:
        client.close()
        raise
    return client


def run_on_cluster(plan: BatchedQuery, part: Callable[[int], Mapping[str, np.ndarray]], n: int,
                   step: int, scheduler: Any, *,
                   progress: Callable[[int], None] | None = None,
                   effort: int | None = None) -> np.ndarray:
    """``plan``'s answer for ``n`` draws in chunks of ``step``, computed on a Dask cluster.

    ``part(start)`` gives the chunk of draws from ``start``: the values of the parameters the
    answer can depend on (arrays of ``step`` or fewer draws, or of 1).
    ``scheduler`` is a ``dask.distributed.Client`` or an address (a Client is then connected
    for this run and closed after it). ``progress`` is called with each chunk's draws as it
    comes back. ``effort``: the whole run's draws, as in :meth:`BatchedQuery.run` (it decides
    whether the run compiles loops, on the workers as here). Returns what
    :meth:`BatchedQuery.run` returns locally, in the same order.
    """
    owned = not _is_client(scheduler)
    client = connect(scheduler)
    try:
        return _run(client, plan, part, n, step, progress, effort or n)
    finally:
        if owned:
            client.close()


def _run(client, plan, part, n, step, progress, effort) -> np.ndarray:
    from distributed import as_completed

    _check_versions(client)
    out = np.empty((n, *plan.output_shape))
    # the plan travels once to every worker; each chunk's task then refers to it by key
    shipped = client.scatter(plan, broadcast=True, hash=False)
    starts = iter(range(0, n, step))
    placed: dict = {}
    running = as_completed(loop=client.loop)

    def submit(start: int) -> None:
        size = min(step, n - start)
        # the draws as data of their own, not inside the task's message
        [data] = client.scatter([dict(part(start))], hash=False)
        future = client.submit(_answer_chunk, shipped, data, size, effort, pure=False)
        placed[future.key] = (start, size, future, data)
        running.add(future)

    def window() -> int:
        return CHUNKS_PER_THREAD * max(1, sum(client.nthreads().values()))

    try:
        for start in itertools.islice(starts, window()):
            submit(start)
        limit = len(placed)
        for done, future in enumerate(running, start=1):
            start, size, _, data = placed.pop(future.key)
            try:
                out[start:start + size] = future.result()
            except GmnetError:
                raise
            except Exception as exc:  # noqa: BLE001 - a worker's failure, named for a person
                raise InvalidArgumentError(
                    f"a Dask worker failed on draws {start:,}-{start + size - 1:,}: "
                    f"{type(exc).__name__}: {exc}") from exc
            future.release()
            data.release()
            if done % _RECOUNT_EVERY == 0:
                limit = window()
            for following in itertools.islice(starts, max(0, limit - len(placed))):
                submit(following)
            if progress is not None:
                progress(size)
    finally:
        left = [f for _, _, f, _ in placed.values()] + [d for _, _, _, d in placed.values()]
        if left:  # an error or Ctrl+C: do not leave the cluster computing
            with contextlib.suppress(Exception):
                client.cancel(left)
        with contextlib.suppress(Exception):
            client.cancel([shipped])
    return out


def _answer_chunk(plan: BatchedQuery, part: Mapping[str, np.ndarray], size: int,
                  effort: int) -> np.ndarray:
    """One chunk on a worker: what a local thread of :meth:`BatchedQuery.run` computes."""
    return plan._chunk(part, size, effort)


def _worker_version() -> str:
    from gmnet._version import __version__

    return __version__


def _check_versions(client) -> None:
    from gmnet._version import __version__

    try:
        found = client.run(_worker_version)
    except Exception as exc:  # noqa: BLE001 - e.g. gmnet is not installed on a worker
        raise InvalidArgumentError(
            f"the Dask workers cannot run gmnet ({type(exc).__name__}: {exc}); install gmnet "
            f"{__version__} on every worker machine") from None
    other = sorted({str(v) for v in found.values()} - {__version__})
    if other:
        raise InvalidArgumentError(
            f"the Dask workers run gmnet {', '.join(other)}, this machine {__version__}; "
            f"install gmnet {__version__} on every worker so that they compute the same numbers")


def _is_client(scheduler: Any) -> bool:
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(scheduler, distributed.Client)


def _valid(what: str) -> str:
    return (f"give the address `dask scheduler` printed (e.g. tcp://10.0.0.5:8786), or leave "
            f"{what} out to run here")


def _check_address(address: str, what: str) -> str:
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    host, colon, port = rest.rpartition(":")
    if scheme not in _SCHEMES or (scheme != "inproc" and (
            not colon or not host or not port.isdigit() or not 0 < int(port) < 65536)):
        raise InvalidArgumentError(
            f"{what} {address[:80]!r} is not a Dask scheduler address (SCHEME://HOST:PORT, "
            f"SCHEME one of {', '.join(_SCHEMES[:4])}); {_valid(what)}")
    return f"{scheme}://{rest}"


def _reachable(address: str, what: str, timeout: float) -> bool:
    """For tcp: a plain connection first, so that 'refused' or 'unknown host' is said at once
    (True: something listens there; False: not tried, for another scheme)."""
    scheme, _, rest = address.partition("://")
    if scheme != "tcp":
        return False
    host, _, port = rest.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"no answer in {timeout:g} s"
        raise InvalidArgumentError(
            f"{what} {address}: cannot reach a Dask scheduler there ({reason}); "
            f"{_valid(what)}") from None
    return True


def _quiet_client(client_class, address: str, what: str, timeout: float, *, listening: bool):
    """Connect; a failed Client's clean-up complaints (printed at garbage collection) are
    silenced, so that the one error below is all a person sees."""
    with _silence_unraisable():
        try:
            return client_class(address, timeout=timeout, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - anything: not a scheduler, a bad handshake
            reason = f"{type(exc).__name__}: {exc}"
        gc.collect()  # the half-made Client goes now, while its complaints are silenced
    problem = ("something listens there, but it did not answer as a Dask scheduler"
               if listening else "cannot reach a Dask scheduler there")
    raise InvalidArgumentError(f"{what} {address}: {problem} ({_short(reason)}); {_valid(what)}")


@contextlib.contextmanager
def _silence_unraisable() -> Iterator[None]:
    previous = sys.unraisablehook
    sys.unraisablehook = lambda _: None
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _check_workers(client, what: str, timeout: float | None) -> None:
    if client.nthreads():
        return
    wait = CONNECT_TIMEOUT if timeout is None else float(timeout)
    try:
        client.wait_for_workers(1, timeout=wait)
    except Exception:  # noqa: BLE001 - a timeout, whatever its class in this Dask version
        address = client.scheduler.address
        raise InvalidArgumentError(
            f"{what}: the Dask scheduler at {address} has no workers (waited {wait:g} s); "
            f"start one on each machine with `dask worker {address}`") from None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
