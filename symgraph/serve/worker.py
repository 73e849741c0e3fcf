"""A small pool of worker processes that run playground jobs, each under a time budget.

Why not ProcessPoolExecutor or multiprocessing.Pool: neither can kill one task. Here each worker is a
`python -c "...worker import main; main()"` process (no multiprocessing: nothing depends on how the server's own main
module was started), in a session of its own so that Graphviz or SymPy's helper processes die with it,
reading one JSON job per line on stdin and answering one JSON line on stdout. A job that outlives its
budget has its worker's process group killed and a fresh worker started in the background; a worker that
dies (out of memory) is replaced the same way. At most `size` jobs run at once; a request waits for a free
worker at most `queue_timeout` seconds, and at most `max_waiting` requests wait, so an overload gets a clear
"busy" answer, not a hang.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

READY_TIMEOUT = 60.0  # seconds a new worker may take to import NumPy, Lark and SymPy
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)  # the directory holding this symgraph


class JobError(Exception):
    """A job did not finish: `status` is the HTTP status and `info` the error the page shows."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.info = {"kind": kind, "message": message, "rendered": message}


def main() -> None:
    """A worker's life: memory cap, imports, then answer jobs (one JSON line each) until stdin closes."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything printed, by us or a process we start, goes to the log, never into the protocol
    sys.stdout = sys.stderr
    limit = int(os.environ.get("SYMGRAPH_SERVE_MEMORY", "0"))
    if limit:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    from . import compute

    try:  # warm up: the first check should not pay SymPy's import inside its budget (the bridge imports it)
        importlib.import_module("symgraph.sympy_bridge")
    except ImportError:
        pass
    protocol.write('"ready"\n')
    protocol.flush()
    for line in sys.stdin:
        kind, payload, budget = json.loads(line)
        ok, result = compute.run(kind, payload, budget)
        protocol.write(json.dumps([ok, result]) + "\n")
        protocol.flush()


class _Worker:
    """One worker process, and a thread that hands its answers over through a queue."""

    def __init__(self, memory_limit: int | None) -> None:
        path = [PACKAGE_ROOT, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        env["SYMGRAPH_SERVE_MEMORY"] = str(memory_limit or 0)
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from symgraph.serve.worker import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group: killing the group kills Graphviz and SymPy's helpers
            text=True,
            encoding="utf-8",
        )
        self.answers: queue.Queue[Any] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.answers.put(json.loads(line))
        self.answers.put(None)  # the worker is gone

    def wait_ready(self, timeout: float) -> bool:
        try:
            return bool(self.answers.get(timeout=timeout) == "ready")
        except queue.Empty:
            return False

    def ask(self, kind: str, payload: dict[str, Any], budget: float) -> Any:
        """Send a job; its answer, None if the worker died, or raise queue.Empty at the budget."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps([kind, payload, budget]) + "\n")
        self.process.stdin.flush()
        return self.answers.get(timeout=budget)

    def kill(self) -> None:
        """Kill the worker and everything it started (its process group)."""
        if hasattr(os, "killpg"):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
        self.process.kill()
        self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class WorkerPool:
    """`size` worker processes; `run` gives a job to a free one and kills it at the job's budget."""

    def __init__(
        self,
        size: int = 2,
        queue_timeout: float = 10.0,
        max_waiting: int = 128,
        memory_limit: int | None = 2 << 30,
    ) -> None:
        self.size = size
        self.queue_timeout = queue_timeout
        self.memory_limit = memory_limit
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._waiting = threading.BoundedSemaphore(max_waiting)
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._closed = False
        self.killed = 0  # workers killed at their budget or found dead, for the logs and the tests
        atexit.register(self.close)

    def start(self) -> None:
        """Start every worker and wait until each has imported what it needs."""
        workers = [self._spawn() for _ in range(self.size)]
        for w in workers:
            if not w.wait_ready(READY_TIMEOUT):
                raise RuntimeError("a playground worker process failed to start")
            self._idle.put(w)

    def _spawn(self) -> _Worker:
        w = _Worker(self.memory_limit)
        with self._lock:
            self._all.add(w)
        return w

    def _discard(self, w: _Worker) -> None:
        with self._lock:
            self._all.discard(w)
            self.killed += 1
        w.kill()
        threading.Thread(target=self._replace, daemon=True).start()

    def _replace(self) -> None:
        """Start a worker in place of a killed one; it joins the idle queue once it is ready."""
        while not self._closed:
            w = self._spawn()
            if w.wait_ready(READY_TIMEOUT) and not self._closed:
                self._idle.put(w)
                return
            with self._lock:
                self._all.discard(w)
            w.kill()

    def run(self, kind: str, payload: dict[str, Any], budget: float) -> tuple[bool, dict[str, Any]]:
        """Run one job in a worker: (ok, result or error info); JobError when busy, over budget or crashed."""
        if not self._waiting.acquire(blocking=False):
            raise JobError(503, "Busy", "the playground is busy (too many requests waiting); try again")
        try:
            try:
                w = self._idle.get(timeout=self.queue_timeout)
            except queue.Empty:
                raise JobError(503, "Busy", "the playground is busy (no worker free); try again") from None
        finally:
            self._waiting.release()
        try:
            answer = w.ask(kind, payload, budget)
        except queue.Empty:
            answer = "timeout"
        except OSError:
            answer = None
        if isinstance(answer, list):
            self._idle.put(w)
            return bool(answer[0]), answer[1]
        if answer is None:
            self._discard(w)
            raise JobError(500, "LimitError", "the worker running this formula died (out of memory?)")
        self._discard(w)
        raise JobError(
            504,
            "TimeLimit",
            f"this formula took longer than its time budget of {budget:g} s and was stopped; "
            "try a smaller formula or smaller arrays",
        )

    def close(self) -> None:
        """Kill every worker (idempotent)."""
        atexit.unregister(self.close)
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for w in workers:
            w.kill()


if __name__ == "__main__":
    main()
