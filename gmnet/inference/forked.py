"""A large batched run's chunks in worker processes forked from this one.

Threads share one interpreter lock. numpy and the compiled loops release it while they
compute, but building a chunk's factors is also a few thousand Python calls, and each
operation that releases the lock must get it back after the other thread's Python: on the
project's two cores, two threads gave 1.05-1.4x one thread on the heaviest questions, where
two processes give 1.5-1.6x. So a large run (:data:`PROCESS_RUN_ENTRIES`) forks one process
per worker. A forked child starts with this process's memory: the plan, the draws, the
contraction paths and the compiled loops are already there, so nothing but the answers
crosses a pipe. Every chunk is computed exactly as a thread computes it, so the numbers are
the same to the last bit (tested).

Forking is used only where it is safe and possible: on Linux (macOS has fork, but its system
libraries are not safe across it), from a
process that runs no other Python thread (a child would inherit locks that thread may hold)
and that is not itself a daemonic worker (which may not have children); otherwise the
threads compute. ``GMNET_PARALLEL=threads`` keeps every run on threads;
``GMNET_PARALLEL=processes`` forks for any run of three chunks or more.
"""

from __future__ import annotations

import math
import mmap
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from gmnet.errors import GmnetError

if TYPE_CHECKING:
    from gmnet.inference.batched import BatchedQuery

__all__ = ["PROCESS_RUN_ENTRIES", "setting", "wanted", "can_fork", "run_forked", "drawn_meanwhile",
           "Workers"]

# A run of at least this many entries (draws x the largest factor's entries per draw) is
# computed in processes: 2^25, e.g. 100,000 draws of a question summing over 432 cells (about
# half a second), where forking (a few milliseconds) costs far less than the lock does.
PROCESS_RUN_ENTRIES = 1 << 25

# Tasks per worker process: enough that the two finish together (a block of the nothing-held
# question's 131,072 draws is 16 chunks of 8,192 draws, about 40 ms each: one chunk a task, so
# the last to finish waits at most one chunk for the other; when a block was 40 chunks, 8 tasks
# a worker, three chunks each, cost 4% of the run's time), few enough that a task's answers are
# worth a message.
TASKS_PER_WORKER = 20

_T = TypeVar("_T")

# What the children compute: set just before forking, read by them (inherited, never sent).
_JOB: tuple | None = None
# ... and for :class:`Workers`: the plan and the memory shared with them
_WORKERS: tuple | None = None


def setting() -> str:
    """``GMNET_PARALLEL``: ``auto`` (default), ``threads`` or ``processes``."""
    value = os.environ.get("GMNET_PARALLEL", "auto").strip().lower()
    return value if value in ("auto", "threads", "processes") else "auto"


def wanted(entries: int, workers: int, chunks: int, pool: Workers | None = None) -> bool:
    """Compute a run of ``entries`` in ``chunks`` with ``workers`` forked processes? With
    ``pool`` already started (:class:`Workers`), nothing need be forked."""
    choice = setting()
    if workers < 2 or chunks < 3 or choice == "threads":
        return False
    if choice == "auto" and entries < PROCESS_RUN_ENTRIES:
        return False
    return (pool is not None and pool.started) or can_fork()


def can_fork() -> bool:
    """Forking is safe here: on Linux (macOS has fork, but its system libraries are not safe
    across it), from a process that runs no other Python thread and is not a daemonic
    worker."""
    return (sys.platform.startswith("linux")
            and "fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon
            and threading.active_count() == 1)


def drawn_meanwhile(work: Callable[[], _T], take: Callable[[int], Mapping[str, np.ndarray]],
                    generators: Sequence[np.random.Generator], names: Sequence[str],
                    sizes: Sequence[int]) -> tuple[_T, list[dict[str, np.ndarray]]]:
    """(``work()``, the blocks of ``sizes`` draws ``take`` gives next), the blocks drawn by a
    forked child while this process runs ``work``; ``generators`` (the random streams ``take``
    draws from) are then where the child left them, so the next ``take`` goes on exactly as
    if this process had drawn the blocks. A thread would not do: a set-up that is one thread of
    Python (a plan's first compiled call loads numba, a third of a second) holds the
    interpreter's lock, and the drawing threads wait for it at every input.

    No blocks (and the streams untouched) where forking is not safe or not wanted
    (``GMNET_PARALLEL=threads``), the system refuses, or the child fails."""
    if not sizes or setting() == "threads" or not can_fork():
        return work(), []
    total = int(sum(sizes))
    shared = mmap.mmap(-1, max(1, total * len(names) * 8))  # anonymous, shared with the child
    table = np.frombuffer(shared, dtype=float)[:total * len(names)].reshape(len(names), total)
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return work(), []
    if pid == 0:  # pragma: no cover - the child: measured by the parent's test
        status = 1
        try:
            os.close(read)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            start = 0
            for size in sizes:
                block = take(size)
                for j, name in enumerate(names):
                    table[j, start:start + size] = block[name]
                start += size
            with os.fdopen(write, "wb") as out:
                pickle.dump([g.bit_generator.state for g in generators], out)
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    try:
        result = work()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        try:
            with os.fdopen(read, "rb") as answer:
                data = answer.read()
        except BaseException:  # interrupted while waiting: the child stopped, then reaped
            os.kill(pid, signal.SIGKILL)
            raise
        finally:
            _, code = os.waitpid(pid, 0)
    if code != 0 or not data:
        return result, []
    for generator, state in zip(generators, pickle.loads(data), strict=True):
        generator.bit_generator.state = state
    blocks, start = [], 0
    for size in sizes:
        blocks.append({name: table[j, start:start + size] for j, name in enumerate(names)})
        start += size
    return result, blocks


def run_forked(plan: BatchedQuery, part: Callable[[int], Mapping[str, np.ndarray]],
               starts: Sequence[int], n: int, step: int, workers: int, out: np.ndarray,
               progress: Callable[[int], None] | None, effort: int) -> bool:
    """Write ``plan``'s answers for the chunks at ``starts`` into ``out``, computed by
    ``workers`` forked processes; ``progress`` gets each task's draws as they come back;
    ``effort`` is the whole run's draws (as in :meth:`BatchedQuery.run`).

    False (nothing computed) if the processes cannot be started (the system refuses to fork:
    too many processes, not enough memory), so that the caller computes in threads. A worker
    that dies (killed by the system, e.g. out of memory) stops the run with a
    :class:`~gmnet.errors.GmnetError`; an error raised in a worker is raised here.
    """
    global _JOB
    tasks = _tasks(starts, workers)
    _JOB = (plan, part, n, step, effort)
    try:
        try:
            pool = _fork_pool(min(workers, len(tasks)))
            futures = [pool.submit(_task, task) for task in tasks]
        except OSError:
            return False
        try:
            _collect(tasks, futures, step, n, out, progress)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        _JOB = None
    return True


def _tasks(starts: Sequence[int], workers: int) -> list[tuple[int, ...]]:
    """The chunks at ``starts`` in tasks of consecutive chunks (:data:`TASKS_PER_WORKER`)."""
    per = max(1, math.ceil(len(starts) / (workers * TASKS_PER_WORKER)))
    return [tuple(starts[k:k + per]) for k in range(0, len(starts), per)]


def _fork_pool(workers: int) -> ProcessPoolExecutor:
    # concurrent.futures rather than multiprocessing.Pool: a worker that dies breaks the pool
    # (BrokenProcessPool) where Pool would wait for its task for ever; with fork it starts
    # every worker before its own thread
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_quiet)


def _collect(tasks, futures, step: int, n: int, out: np.ndarray, progress) -> None:
    """The tasks' answers into ``out``, in order, ``progress`` told after each."""
    try:
        for task, future in zip(tasks, futures, strict=True):
            answers = future.result()
            first, last = task[0], min(task[-1] + step, n)
            out[first:last] = answers
            if progress is not None:
                progress(last - first)
    except BrokenProcessPool as exc:
        raise _stopped() from exc


class Workers:
    """Worker processes forked once for a long run that one plan answers block by block
    (:func:`gmnet.uncertainty`), kept until :meth:`close` (a context manager).

    :func:`run_forked` forks its processes for each call: each block's children then fault in
    afresh the memory their chunks work in (on the nothing-held question a sixth of the run's
    processor time went to page faults). These workers are forked at the first block that
    wants processes, after its first chunk has settled the plan and loaded its compiled loops
    in this process (they inherit both), and stay: each block's values are copied into memory
    shared with them (anonymous, mapped before the fork), and only the chunks' starts and the
    answers cross a pipe. Every chunk is computed as :func:`run_forked` computes it, from the
    same values, so the numbers are the same to the last bit. A block of another plan, another
    number of workers, or more values than the shared memory holds stops the workers and forks
    new ones for it; where that is not possible (:func:`can_fork`), :meth:`run` returns False
    and the caller computes in threads."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._plan: BatchedQuery | None = None
        self._shared: mmap.mmap | None = None
        self._workers = 0

    @property
    def started(self) -> bool:
        """The processes are running."""
        return self._pool is not None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the processes (after their current task) and free the shared memory."""
        global _WORKERS
        pool, self._pool, self._plan = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if _WORKERS is not None and _WORKERS[1] is self._shared:
            _WORKERS = None
        shared, self._shared = self._shared, None
        if shared is not None:
            try:
                shared.close()
            except BufferError:  # pragma: no cover - a view still held: freed with it
                pass

    def run(self, plan: BatchedQuery, relevant: Mapping[str, np.ndarray],
            varying: frozenset[str], starts: Sequence[int], n: int, step: int, workers: int,
            out: np.ndarray, progress: Callable[[int], None] | None, effort: int) -> bool:
        """As :func:`run_forked`, the chunks at ``starts`` of ``relevant`` (the values the
        plan reads) in these processes (forked at the first call); False where they cannot
        take it (see the class), so that the caller computes in threads."""
        arrays = {k: np.asarray(v) for k, v in relevant.items()}
        if any(a.dtype != np.float64 for a in arrays.values()):
            return False
        size = sum(a.nbytes for a in arrays.values())
        if self._pool is not None and (plan is not self._plan or workers != self._workers
                                       or self._shared is None or size > len(self._shared)):
            self.close()  # joins the pool's own threads: this process may fork again
        if self._pool is None and not self._start(plan, size, workers):
            return False
        pool, shared = self._pool, self._shared
        assert pool is not None and shared is not None
        layout, offset = [], 0
        for name, a in arrays.items():
            view = np.frombuffer(shared, dtype=np.float64, count=a.size, offset=offset)
            view[:] = a.reshape(-1)
            del view
            layout.append((name, offset, a.shape))
            offset += a.nbytes
        tasks = _tasks(starts, workers)
        job = (tuple(layout), varying, n, step, effort)
        futures = []
        try:
            try:
                futures = [pool.submit(_block_task, job, task) for task in tasks]
            except BrokenProcessPool as exc:  # a worker died between blocks
                raise _stopped() from exc
            _collect(tasks, futures, step, n, out, progress)
        except BaseException:
            for future in futures:  # none of this block's tasks left for a later one
                future.cancel()
            raise
        return True

    def _start(self, plan: BatchedQuery, size: int, workers: int) -> bool:
        global _WORKERS
        if not can_fork():
            return False
        try:
            shared = mmap.mmap(-1, max(1, size))  # anonymous, shared with the children
        except OSError:
            return False
        self._plan, self._shared, self._workers = plan, shared, workers
        _WORKERS = (plan, shared)
        try:
            self._pool = _fork_pool(workers)
            self._pool.submit(int).result()  # the children start now, from this state
        except (OSError, BrokenProcessPool):
            _abandon(self._pool)
            self._pool = None
            self.close()
            return False
        return True


def _abandon(pool: ProcessPoolExecutor | None) -> None:
    """Stop a pool that could not start every worker: those started would wait for work."""
    if pool is None:
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _stopped() -> GmnetError:
    return GmnetError(
        "a worker process of the run stopped before it finished (killed by the system? "
        "out of memory?); GMNET_PARALLEL=threads computes in threads")


def _quiet() -> None:
    """In a child: leave Ctrl-C to the parent, which stops the children (no traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _task(starts: tuple[int, ...]) -> np.ndarray:
    """In a child: the answers of the consecutive chunks at ``starts``, one array."""
    if _JOB is None:  # pragma: no cover - only a forked child runs this
        raise RuntimeError("no batched run to compute")
    plan, part, n, step, effort = _JOB
    return np.concatenate([plan._chunk(part(start), min(step, n - start), effort)
                           for start in starts])


def _block_task(job: tuple, starts: tuple[int, ...]) -> np.ndarray:
    """In a :class:`Workers` child: :func:`_task` for a block whose values are in the shared
    memory (``job``: where each is, which vary, the block's draws, its chunks' size, the
    run's draws)."""
    if _WORKERS is None:  # pragma: no cover - only a forked child runs this
        raise RuntimeError("no batched run to compute")
    plan, shared = _WORKERS
    layout, varying, n, step, effort = job
    values = {}
    for name, offset, shape in layout:
        view = np.frombuffer(shared, dtype=np.float64, count=math.prod(shape), offset=offset)
        view.setflags(write=False)  # the other workers read the same memory
        values[name] = view.reshape(shape)
    return np.concatenate([plan._chunk(plan.chunk_values(values, varying, n, step, start),
                                       min(step, n - start), effort) for start in starts])
