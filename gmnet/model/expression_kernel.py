"""A CPT expression compiled to one machine-code loop (numba): the batched engine's fused path.

:mod:`gmnet.model.expression_program` evaluates an expression one numpy operation at a time:
every operation reads and writes a whole array of (grid cells x draws), so an expression of a
few dozen operations streams a few dozen arrays through memory. Here the same expression is
written as Python source for ONE loop nest (the parents the expression reads, then the draws,
innermost and contiguous), every operation a scalar one on registers, and compiled by numba:
the goal and harm factors of the expanded formula over the 2,592 cells of the nothing-held
question take about 1-3 us a draw instead of 23-31 (``benchmarks/probe_fused_kernel.py``).

The numbers are the same to the last bit: each scalar operation is the one numpy applies to
each element, in the same order (``(g * m_goal) * f``, ``minimum(1.0, x)``, the split's
branches), with numpy's handling of division by zero (``error_model="numpy"``) and of NaN in
``minimum``/``maximum``; LLVM is not allowed to reassociate or fuse (no ``fastmath``).
``tests/test_expression_kernel.py`` checks every expression of the bundled and of random
networks against the tree walker with ``numpy.array_equal``.

Compiling costs about a second per kernel, so kernels are used only where they repay it
(:func:`wanted`): by default for large runs, or when the kernel is already compiled. Compiled
kernels are kept on disk (numba's cache, in ``$GMNET_CACHE_DIR`` or ``~/.cache/gmnet``), so a
later process loads them in milliseconds. numba is optional (``pip install 'gmnet[fast]'``);
without it, or with ``GMNET_KERNELS=off``, everything runs on numpy as before, with the same
numbers. ``GMNET_KERNELS=on`` uses a kernel for every expression that reads a parameter.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from gmnet.model.kernel_helpers import ROUTE_HELPER
from gmnet.model.kernel_source import Generator, Unsupported, generate, generate_tail

__all__ = ["available", "mode", "fused_kernel", "FusedKernel", "tail_kernel", "TailKernel",
           "cache_dir", "route_split"]

# an expression's output below this many entries (cells x draws) is left to numpy: its
# arithmetic costs less than the call. At 2^15, a mitigation's adoption (three cells) on a
# chunk of 3,276 draws was numpy's, about 0.1 ms of Python a CPT, nine of them a chunk; at 2^12
# a compiled loop takes them (the nine share one: their sources differ only in the names the
# loop does not use), 0.3-0.5 us a draw less on the nothing-held question (one core)
MIN_ENTRIES = 1 << 12

_lock = threading.RLock()
_numba: Any = None  # the module, once imported; False: not installed
_KERNELS: dict[tuple, FusedKernel | None] = {}
MAX_KERNELS = 512


def mode() -> str:
    """``GMNET_KERNELS``: ``auto`` (default), ``on`` or ``off``."""
    value = os.environ.get("GMNET_KERNELS", "auto").strip().lower()
    return value if value in ("auto", "on", "off") else "auto"


def available() -> bool:
    """numba can be imported (imported on the first call, a fraction of a second)."""
    global _numba
    if _numba is None:
        with _lock:
            if _numba is None:
                try:
                    import numba
                except Exception:  # missing, or broken for this numpy
                    _numba = False
                else:
                    _numba = numba
    return _numba is not False


def cache_dir() -> Path:
    """Where compiled kernels are kept: ``$GMNET_CACHE_DIR/kernels`` or
    ``$XDG_CACHE_HOME/gmnet/kernels`` (default ``~/.cache/gmnet/kernels``)."""
    base = os.environ.get("GMNET_CACHE_DIR")
    if base:
        root = Path(base)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gmnet"
    return root / "kernels"


class FusedKernel:
    """One compiled expression: ``run(scalars, groups)`` gives what
    :func:`gmnet.model.expressions.evaluate_compact` gives, draws last, compact.

    The source depends on which parameters vary (an array of N draws, read at ``[i]``) and
    which are one number (``[0]``); one compiled loop is kept per such pattern.
    """

    def __init__(self, gen: Generator, looped: tuple[int, ...], kept: tuple[tuple[int, ...], ...],
                 nparents: int, rule: str):
        self.gen, self.looped, self.nparents, self.rule = gen, looped, nparents, rule
        self.params = tuple(gen.params)
        self.kept = tuple(np.asarray(k, dtype=np.int64) for k in kept)
        self._sources: dict[tuple[bool, ...], tuple[str, str]] = {}
        self._fns: dict[tuple[bool, ...], object] = {}

    def shape(self, n: int) -> tuple[int, ...]:
        dims = [1] * self.nparents
        for axis, k in zip(self.looped, self.kept, strict=True):
            dims[axis] = len(k)
        return (*dims, n)

    def pattern(self, scalars, groups) -> tuple[bool, ...]:
        """Which parameters vary (N draws) and which are one number, without copying."""
        return tuple((np.asarray(scalars[name]).size if kind == "s"
                      else np.asarray(groups[name][1]).shape[0]) > 1
                     for kind, name, _ in self.params)

    def arrays(self, scalars, groups) -> tuple[list[np.ndarray], tuple[bool, ...], int]:
        args: list = []
        varying = []
        n = 1
        for kind, name, _ in self.params:
            if kind == "s":
                arr = np.ascontiguousarray(np.asarray(scalars[name], dtype=float).reshape(-1))
                length = arr.shape[0]
            else:
                arr = np.ascontiguousarray(np.asarray(groups[name][1], dtype=float).T)
                length = arr.shape[1]
            n = max(n, length)
            args.append(arr)
            varying.append(length > 1)
        return args, tuple(varying), n

    def source(self, varying: tuple[bool, ...]) -> tuple[str, str]:
        """(source, digest) of the loop for this pattern of varying parameters."""
        if varying not in self._sources:
            text = self.gen.source(self.looped, varying, self.rule)
            self._sources[varying] = (text, hashlib.sha256(text.encode()).hexdigest()[:20])
        return self._sources[varying]

    def compiled(self, varying: tuple[bool, ...]):
        fn = self._fns.get(varying)
        if fn is None:
            with _lock:
                fn = self._fns.get(varying)
                if fn is None:
                    fn = self._fns[varying] = _load(*self.source(varying))
        return fn

    def run(self, scalars, groups) -> np.ndarray:
        args, varying, n = self.arrays(scalars, groups)
        out = np.empty(self.shape(n))
        _call(self.compiled(varying), out, *self.kept, *args)
        return out

    def is_cached(self, scalars, groups) -> bool:
        """Compiled in this process, or in the disk cache (loading is then cheap)."""
        varying = self.pattern(scalars, groups)
        if varying in self._fns:
            return True
        return _on_disk(self.source(varying)[1])  # looked up once per process


def fused_kernel(text: str, parents: tuple, scalars: frozenset, groups: tuple,
                 rule: str) -> FusedKernel | None:
    """The kernel of ``text`` for a node whose ``parents`` are ((name, states, kept), ...);
    ``groups`` is ((group, keys), ...). None: not compiled (numpy evaluates it)."""
    key = (text, parents, scalars, groups, rule)
    with _lock:
        if key in _KERNELS:
            return _KERNELS[key]
    try:
        gen, looped = generate(text, parents, scalars, dict(groups), rule)
    except Unsupported:
        kernel = None
    else:
        kernel = FusedKernel(gen, looped, tuple(tuple(parents[a][2]) for a in looped),
                             len(parents), rule)
    with _lock:
        if len(_KERNELS) >= MAX_KERNELS:
            _KERNELS.clear()
        _KERNELS[key] = kernel
    return kernel


class TailKernel(FusedKernel):
    """The product of several expressions on the same parents, times weights, summed over the
    cells: ``run(scalars, groups, arrays)`` gives one number per draw, ``sum over cells (in
    :attr:`looped` order) of (e0 * e1 ...) * ((w0 * w1) * ...)``
    (:meth:`gmnet.model.kernel_source.Generator.source` with ``weights``), without ever
    writing the expressions' values (the batched engine's product-sum,
    :mod:`gmnet.inference.tail`).

    ``weights`` (given at creation) says what each weight reads: (h, (the parent axes of
    each of its arrays, ...)); ``arrays`` are those arrays in that order, each over the
    parents' axes (size 1 where it does not depend on a parent), after a leading hidden axis
    of length h where h > 1, and the draws (N or 1)."""

    def __init__(self, gen: Generator, looped: tuple[int, ...],
                 kept: tuple[tuple[int, ...], ...], nparents: int, rule: str,
                 weights: tuple):
        super().__init__(gen, looped, kept, nparents, rule)
        self.weights = weights

    def shape(self, n: int) -> tuple[int, ...]:
        return (n,)

    def source(self, varying: tuple[bool, ...]) -> tuple[str, str]:
        # every weight array is read at [..., i]: run() gives each one all the draws
        if varying not in self._sources:
            text = self.gen.source(self.looped, varying, self.rule, self.weights)
            self._sources[varying] = (text, hashlib.sha256(text.encode()).hexdigest()[:20])
        return self._sources[varying]

    def run(self, scalars, groups, arrays=()) -> np.ndarray:
        args, varying, n = self.arrays(scalars, groups)
        n = max([n, *(w.shape[-1] for w in arrays)])
        ws = [np.ascontiguousarray(np.broadcast_to(w, (*w.shape[:-1], n)), dtype=float)
              for w in arrays]
        out = np.zeros(n)
        _call(self.compiled(varying), out, *self.kept, *args, *ws)
        return out


def tail_kernel(texts: tuple[str, ...], parents: tuple, scalars: frozenset, groups: tuple,
                rule: str, axes: tuple[int, ...], weights: tuple,
                routes: tuple[str, ...] = (),
                order_axes: tuple | None = None) -> TailKernel | None:
    """The :class:`TailKernel` of ``texts`` (all on ``parents``, ((name, states, kept), ...)),
    summed over the parent ``axes``, with ``weights`` and the calibrated routes of targets
    ``routes`` (:meth:`gmnet.model.kernel_source.Generator.source`); None where the
    expressions cannot be compiled (numpy then computes the same sum). ``order_axes``: the
    parent axes of each weight for the loops' order (default: those its arrays read)."""
    key = ("tail", texts, parents, scalars, groups, rule, axes, weights, routes, order_axes)
    with _lock:
        if key in _KERNELS:
            return _KERNELS[key]  # type: ignore[return-value]
    try:
        if order_axes is None:
            order_axes = tuple(tuple(a for arr in w for a in arr) for _, w, _ in weights)
        gen, looped = generate_tail(texts, parents, scalars, dict(groups), rule, axes,
                                    order_axes, routes)
    except Unsupported:
        kernel = None
    else:
        kernel = TailKernel(gen, looped, tuple(tuple(parents[a][2]) for a in looped),
                            len(parents), rule, weights)
    with _lock:
        if len(_KERNELS) >= MAX_KERNELS:
            _KERNELS.clear()
        _KERNELS[key] = kernel
    return kernel


def wanted(kernel: FusedKernel | None, entries: int, large_run: bool, scalars=None,
           groups=None) -> bool:
    """Use ``kernel`` for an output of ``entries`` (cells x draws) in a run that is
    ``large_run`` (see :data:`gmnet.inference.batched.FUSED_RUN_ENTRIES`)?"""
    if kernel is None:
        return False
    return _use(entries, large_run, lambda: kernel.is_cached(scalars, groups))


def _use(entries: int, large_run: bool, cached) -> bool:
    """The policy of :func:`wanted` and :func:`route_split`: a large enough output, not
    switched off, and (unless switched on) a large run or a loop already compiled
    (``cached()``, asked only then)."""
    if entries < MIN_ENTRIES:
        return False
    setting = mode()
    if setting == "off":
        return False
    if setting == "auto" and not large_run and not cached():
        return False
    return available()  # numba is imported only here, once a loop is wanted


# ================================================================ the calibrated route
# The calibrated route's slope and offset (gmnet.model.cpts._calibrated_route_cpt), one element
# at a time: np.clip, the two bounds, np.where/np.fmin, np.nan_to_num, the share, np.where.
_ROUTE_SOURCE = f"""import math

import numba

{ROUTE_HELPER}

@numba.njit(cache=True, nogil=True, error_model="numpy")
def kernel(G, D, S, offset, lam):
    for k in range(G.shape[0]):
        offset[k], lam[k] = _route(G[k], D[k], S[k])
    return 0
"""
_ROUTE_DIGEST = "route_" + hashlib.sha256(_ROUTE_SOURCE.encode()).hexdigest()[:20]
_route_kernel = None


def route_split(G: np.ndarray, dbar: np.ndarray, share: np.ndarray,
                large_run: bool, out: tuple[np.ndarray, np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """(offset, slope) of a calibrated route from its target ``G``, ``dbar`` = P(route |
    do(others)) (not yet clipped) and the share, as numpy computes them in
    :func:`gmnet.model.cpts._calibrated_route_cpt`; None where a compiled loop is not wanted
    (the same policy as :func:`wanted`). ``out``: two C-contiguous arrays of as many entries
    as the broadcast of the three, to write them into (in its order)."""
    global _route_kernel
    full = np.broadcast_shapes(G.shape, dbar.shape, share.shape)
    if not _use(int(np.prod(full)), large_run,
                lambda: _route_kernel is not None or _on_disk(_ROUTE_DIGEST)):
        return None
    if _route_kernel is None:
        with _lock:
            if _route_kernel is None:
                _route_kernel = _load(_ROUTE_SOURCE, _ROUTE_DIGEST)

    def flat(x):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=float), full)).reshape(-1)

    if out is None:
        offset, lam = np.empty(full), np.empty(full)
    else:
        offset, lam = (a.reshape(full) for a in out)  # views: written in place
    _call(_route_kernel, flat(G), flat(dbar), flat(share), offset.reshape(-1), lam.reshape(-1))
    return offset, lam


# ================================================================ loading
_DISK: dict[str, bool] = {}
_CALLED: set[int] = set()  # the loops called at least once in this process (compiled)


def _call(fn, *args):
    """``fn(*args)``; its first call (numba compiles, or loads the machine code) with Ctrl+C
    held back until it returns: an interrupt inside numba's compiler surfaces as one of
    numba's own errors, not as KeyboardInterrupt (the command would exit 1 with it, not 130)."""
    if id(fn) in _CALLED:
        return fn(*args)
    with _interrupt_after():
        _check_blas_once()
        result = fn(*args)
    _CALLED.add(id(fn))
    return result


_BLAS_CHECKED = False  # numba's BLAS check made in this process (_check_blas_once)


def _check_blas_once() -> None:
    """Before the first compiled call, numba's BLAS check made without importing scipy.linalg.

    A first call loads numba's registries, every module of implementations it has; one of
    them (``numba.np.arraymath``) checks at import for a BLAS by importing
    ``scipy.linalg.cython_blas``, which imports scipy's linear algebra: a fifth of a second
    before the first answer, on every run, for loops that use no BLAS. That module is
    imported here first, with numba's own lock held (numba compiles under it) and its check
    (``numba.np.linalg.ensure_blas``) answering "none" for the import's duration only; its
    answer is then set to whether scipy is installed, which is what the check finds on a
    working scipy. Nothing else in the process sees it: a numba function of the user's that
    uses a BLAS works as before (numba imports scipy when it compiles one), other threads'
    imports and numba's extensions are untouched. Where numba has changed so that this does
    not apply, or the module is already imported, numba loads as it does."""
    global _BLAS_CHECKED
    if _BLAS_CHECKED:
        return
    with _lock:
        if not _BLAS_CHECKED:
            _check_blas_lazily()
            _BLAS_CHECKED = True


def _check_blas_lazily() -> None:
    if "numba.np.arraymath" in sys.modules or "scipy.linalg.cython_blas" in sys.modules:
        return  # checked already, or nothing to save
    try:
        from numba.core.compiler_lock import global_compiler_lock
        from numba.np import linalg
    except Exception:  # pragma: no cover - another numba: loads as it does
        return
    check = getattr(linalg, "ensure_blas", None)
    if check is None:  # pragma: no cover - another numba
        return

    def none() -> None:
        raise ImportError("a BLAS is looked for when a function needs one")

    with global_compiler_lock:
        linalg.ensure_blas = none
        try:
            from numba.np import arraymath
        except Exception:  # pragma: no cover - imported again, as numba does, at the call
            return
        finally:
            linalg.ensure_blas = check
        if getattr(arraymath, "ensure_blas", None) is none:
            arraymath.ensure_blas = check
        if getattr(arraymath, "_HAVE_BLAS", None) is False:
            arraymath._HAVE_BLAS = importlib.util.find_spec("scipy") is not None


@contextlib.contextmanager
def _interrupt_after():
    """Hold SIGINT back for the duration and raise KeyboardInterrupt after it if one came (in
    the main thread, where Python's handler runs; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


def _on_disk(digest: str) -> bool:
    """Compiled by an earlier process (its machine code is in the cache directory)."""
    found = _DISK.get(digest)
    if found is None:
        folder = cache_dir() / "__pycache__"
        found = _DISK[digest] = folder.is_dir() and any(
            folder.glob(f"gmnet_kernel_{digest}.*.nbi"))
    return found


def _load(source: str, digest: str):
    """The compiled ``kernel`` of ``source``: from a module file in the cache directory (numba
    keeps its machine code beside it), or, where that cannot be written, from memory."""
    if not available():  # pragma: no cover - callers check first
        raise RuntimeError("numba is not installed")
    name = f"gmnet_kernel_{digest}"
    folder = cache_dir()
    path = folder / f"{name}.py"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != source:
            tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
            tmp.write_text(source)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover
            raise OSError(path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _DISK[digest] = True
    except Exception:  # noqa: BLE001 - cannot write, or numba finds no cache locator there
        sys.modules.pop(name, None)
        namespace: dict = {}
        exec(compile(source.replace("cache=True", "cache=False"), name, "exec"),
             namespace)
        return namespace["kernel"]
    return module.kernel

