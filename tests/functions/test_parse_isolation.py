"""The isolated parse worker: results come back, limits kill the whole process tree, crashes are transient.

The jobs below are real functions run in the real child process (spawned, so they live at module level).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from core.errors import InvalidInput, PermanentError, TransientError
from functions.parse.isolation import (
    IsolatedWorker,
    Limits,
    ParseMemoryExceeded,
    ParseTimeout,
    ParseWorkerCrashed,
)

ROOMY = Limits(timeout=60, memory_mb=None)


def add(a: int, b: int, *, times: int = 1) -> tuple[int, int]:
    return (a + b) * times, os.getpid()


def refuse(message: str) -> None:
    raise InvalidInput(message)


def sleep_with_grandchild(pid_file: str, seconds: float) -> None:
    """Start a grandchild (as MinerU starts render workers), record its pid, then hang."""
    child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])
    Path(pid_file).write_text(str(child.pid))
    time.sleep(seconds)


def hold_memory(megabytes: int, seconds: float) -> int:
    block = bytearray(megabytes * 2**20)
    for offset in range(0, len(block), 4096):  # touch every page so it is resident
        block[offset] = 1
    time.sleep(seconds)
    return len(block)


def crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


@pytest.fixture
def worker() -> Iterator[IsolatedWorker]:
    isolated = IsolatedWorker()
    yield isolated
    isolated.close()


def test_runs_jobs_in_one_warm_child(worker: IsolatedWorker) -> None:
    (value, pid), usage = worker.run(add, 2, 3, times=2, limits=ROOMY)
    (_, again), _ = worker.run(add, 1, 1, limits=ROOMY)

    assert value == 10
    assert pid != os.getpid() and pid == again == worker.pid
    assert usage.seconds >= 0 and usage.peak_rss_mb > 5


def test_job_exceptions_come_back_unchanged(worker: IsolatedWorker) -> None:
    with pytest.raises(InvalidInput, match="not a PDF"):
        worker.run(refuse, "not a PDF", limits=ROOMY)
    assert worker.run(add, 1, 2, limits=ROOMY)[0][0] == 3


def test_timeout_kills_the_job_and_its_children(worker: IsolatedWorker, tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    started = time.monotonic()

    with pytest.raises(ParseTimeout, match=r"after 1.5 s, the time limit \(MINERU_TIMEOUT\)") as caught:
        worker.run(sleep_with_grandchild, str(pid_file), 60, limits=Limits(timeout=1.5))

    assert isinstance(caught.value, PermanentError)
    assert time.monotonic() - started < 5
    grandchild = int(pid_file.read_text())
    assert _gone(grandchild)
    # The next job gets a fresh child.
    assert worker.run(add, 1, 1, limits=ROOMY)[0][0] == 2


def test_memory_ceiling_kills_the_job(worker: IsolatedWorker) -> None:
    worker.run(add, 0, 0, limits=ROOMY)  # start the child first: its own baseline is ~15 MB
    first = worker.pid

    limit = r"more than 150 MB of memory \(MINERU_MEMORY_LIMIT_MB"
    with pytest.raises(ParseMemoryExceeded, match=limit) as caught:
        worker.run(hold_memory, 400, 30, limits=Limits(timeout=60, memory_mb=150))

    assert isinstance(caught.value, PermanentError)
    assert first is not None and _gone(first)
    assert worker.run(hold_memory, 20, 0, limits=Limits(timeout=60, memory_mb=150))[0] == 20 * 2**20


def test_crash_is_transient_and_recovers(worker: IsolatedWorker) -> None:
    with pytest.raises(ParseWorkerCrashed, match=r"signal 11 \(SIGSEGV\)") as caught:
        worker.run(crash, limits=ROOMY)

    assert isinstance(caught.value, TransientError)
    assert worker.run(add, 2, 2, limits=ROOMY)[0][0] == 4


def test_child_is_replaced_after_max_jobs() -> None:
    worker = IsolatedWorker(max_jobs=2)
    try:
        pids = [worker.run(add, 0, 0, limits=ROOMY)[0][1] for _ in range(3)]
    finally:
        worker.close()

    assert pids[0] == pids[1] != pids[2]
    assert _gone(pids[0])


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False
