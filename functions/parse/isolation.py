"""Run parse jobs in a child process under a wall-clock limit and a memory ceiling.

MinerU's memory grows across documents and a pathological PDF can keep it busy for hours; inside the service
process either would take the whole service down. :class:`IsolatedWorker` keeps one warm child process (so
MinerU's imports and its render workers are paid for once, not per document) and runs one job at a time in
it. While a job runs, the parent samples the resident memory of the child *and its descendants* (MinerU
renders pages in its own ``spawn`` workers); when the job exceeds the memory ceiling or its time limit, the
child's whole process group is killed and the next job starts a fresh child. The child is also replaced after
``max_jobs`` jobs, and after any job that leaves it holding more than half the ceiling, so slow growth never
reaches the ceiling in the middle of someone's document.

Outcomes: the job's return value; the exception the job raised (re-raised here unchanged, so a
:class:`PermanentError` stays permanent); :class:`ParseTimeout` / :class:`ParseMemoryExceeded` (permanent: the
same document would hit the same limit again); :class:`ParseWorkerCrashed` (transient: a segfault or an
outside kill may not repeat).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

import psutil

from core.errors import PermanentError, TransientError

log = logging.getLogger(__name__)

T = TypeVar("T")

_POLL_SECONDS = 0.1
_STARTUP_SECONDS = 60.0


class ParseTimeout(PermanentError):
    """The job ran longer than its wall-clock limit and was killed."""


class ParseMemoryExceeded(PermanentError):
    """The job's processes together used more memory than the ceiling and were killed."""


class ParseWorkerCrashed(TransientError):
    """The child process died without an answer (signal, native crash, killed from outside)."""


@dataclass(frozen=True)
class Limits:
    """``timeout`` in seconds; ``memory_mb`` is the ceiling on resident memory (None: no ceiling)."""

    timeout: float
    memory_mb: int | None = None


@dataclass(frozen=True)
class Usage:
    """What one job cost: wall-clock seconds and the peak resident memory of the child's process tree."""

    seconds: float
    peak_rss_mb: float


class IsolatedWorker:
    """A warm child process that runs picklable top-level callables one at a time under :class:`Limits`.

    Thread-safe: concurrent callers queue on a lock (one parse at a time per worker is the point).
    """

    def __init__(self, *, max_jobs: int = 0) -> None:
        self.max_jobs = max_jobs
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._jobs = 0
        self._scratch = Path(tempfile.mkdtemp(prefix="pdfonto-worker-"))
        atexit.register(self._shutdown)

    @property
    def pid(self) -> int | None:
        """The child's process id while one is running (for tests and diagnostics)."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def run(self, job: Callable[..., T], *args: Any, limits: Limits, **kwargs: Any) -> tuple[T, Usage]:
        """Run ``job(*args, **kwargs)`` in the child; returns its result and what it cost."""
        with self._lock:
            process, conn = self._ensure_started()
            result_path = self._scratch / f"result-{os.getpid()}-{time.monotonic_ns()}.pickle"
            started = time.monotonic()
            conn.send((job, args, kwargs, str(result_path)))
            peak = self._watch(process, conn, limits, started)
            seconds = round(time.monotonic() - started, 3)
            try:
                status, value = pickle.loads(result_path.read_bytes())
            finally:
                result_path.unlink(missing_ok=True)
            self._jobs += 1
            self._maybe_recycle(process, limits)
            usage = Usage(seconds=seconds, peak_rss_mb=round(peak / 2**20, 1))
            if status == "error":
                raise value
            return value, usage

    def close(self) -> None:
        """Stop the child (if any); the worker starts a new one on the next :meth:`run`."""
        with self._lock:
            self._stop(graceful=True)

    def _shutdown(self) -> None:
        self.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    # -- internals -----------------------------------------------------------------------------------------

    def _ensure_started(self) -> tuple[BaseProcess, Connection]:
        if self._process is not None and self._conn is not None and self._process.is_alive():
            return self._process, self._conn
        self._stop(graceful=False)
        parent_end, child_end = self._context.Pipe()
        # Not a daemon: daemonic processes may not start children, and MinerU starts render workers.
        process = self._context.Process(target=_serve, args=(child_end,), name="pdfonto-parse-worker")
        process.start()
        child_end.close()
        # The child answers once it has made itself a process-group leader, so a kill reaches all of it.
        if not parent_end.poll(_STARTUP_SECONDS):
            process.kill()
            raise ParseWorkerCrashed(f"the parse worker did not start within {_STARTUP_SECONDS:g} s")
        parent_end.recv()
        self._process, self._conn, self._jobs = process, parent_end, 0
        return process, parent_end

    def _watch(self, process: BaseProcess, conn: Connection, limits: Limits, started: float) -> int:
        """Wait for the job's answer while enforcing the limits; returns the peak tree RSS in bytes."""
        ceiling = limits.memory_mb * 2**20 if limits.memory_mb else None
        peak = 0
        while True:
            try:
                if conn.poll(_POLL_SECONDS):
                    conn.recv()
                    return max(peak, _tree_rss(process.pid))
            except (EOFError, OSError):
                pass  # the child is gone; its exit code below says how
            if not process.is_alive():
                process.join(1)
                code = process.exitcode
                self._stop(graceful=False)
                how = f"code {code}"
                if code is not None and code < 0:
                    how = f"signal {-code} ({_signal_name(-code)})"
                raise ParseWorkerCrashed(f"the parse worker process died ({how}) before finishing the job")
            rss = _tree_rss(process.pid)
            peak = max(peak, rss)
            if ceiling is not None and rss > ceiling:
                self._stop(graceful=False)
                raise ParseMemoryExceeded(
                    f"Parsing was stopped because it needed more than {limits.memory_mb} MB of memory "
                    f"(MINERU_MEMORY_LIMIT_MB; it had reached {rss / 2**20:.0f} MB). Split the PDF into "
                    "smaller files, or ask the administrator to raise MINERU_MEMORY_LIMIT_MB."
                )
            if time.monotonic() - started > limits.timeout:
                self._stop(graceful=False)
                raise ParseTimeout(
                    f"Parsing was stopped after {limits.timeout:g} s, the time limit (MINERU_TIMEOUT). Split "
                    "the PDF into smaller files, or ask the administrator to raise MINERU_TIMEOUT."
                )

    def _maybe_recycle(self, process: BaseProcess, limits: Limits) -> None:
        if self.max_jobs and self._jobs >= self.max_jobs:
            self._stop(graceful=True)
            return
        if limits.memory_mb and _tree_rss(process.pid) > limits.memory_mb * 2**20 // 2:
            log.info("recycling the parse worker: it holds more than half of the memory ceiling")
            self._stop(graceful=True)

    def _stop(self, *, graceful: bool) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is None:
            return
        if graceful and conn is not None and process.is_alive():
            try:
                conn.send(None)
                process.join(10)
            except (OSError, ValueError):
                pass
        if process.is_alive() or process.pid is not None:
            _kill_group(process)
        process.join(5)
        if conn is not None:
            conn.close()


def _serve(conn: Connection) -> None:
    """The child's loop: run each job it is sent and leave the outcome in the named file."""
    # Own process group, so the parent can kill this process and every render worker MinerU starts at once.
    os.setpgid(0, 0)
    conn.send("ready")
    while True:
        message = conn.recv()
        if message is None:
            return
        job, args, kwargs, result_path = message
        try:
            outcome: tuple[str, Any] = ("ok", job(*args, **kwargs))
        except BaseException as exc:
            outcome = ("error", exc)
        try:
            payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an exception carrying unpicklable state still has to reach the parent
            payload = pickle.dumps(("error", RuntimeError(f"{outcome[1]!r} (unpicklable: {exc})")))
        tmp = Path(result_path + ".tmp")
        tmp.write_bytes(payload)
        tmp.replace(result_path)
        conn.send("done")


def _tree_rss(pid: int | None) -> int:
    """Resident memory of ``pid`` and all its descendants, in bytes (0 if it is gone)."""
    if pid is None:
        return 0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def _kill_group(process: BaseProcess) -> None:
    pid = process.pid
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        # Not (yet) a group leader or already gone: kill what is still visible.
        for proc in _descendants(pid):
            with contextlib.suppress(psutil.Error):
                proc.kill()
        if process.is_alive():
            process.kill()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [*root.children(recursive=True), root]
    except psutil.Error:
        return []


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown"
