"""A small pool of worker processes that run playground jobs, each under a time budget.

Why not ProcessPoolExecutor or multiprocessing.Pool: neither can kill one task. Here each worker is a
process of its own (started with `spawn`, in a session of its own so that Graphviz or SymPy's helper
processes die with it), talking over a Pipe. A job that outlives its budget has its worker's process group
killed and a fresh worker started in the background; a worker that dies (out of memory) is replaced the
same way. At most `size` jobs run at once; a request waits for a free worker at most `queue_timeout`
seconds, and at most `max_waiting` requests wait, so an overload gets a clear "busy" answer, not a hang.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

READY_TIMEOUT = 60.0  # seconds a new worker may take to import NumPy, Lark and SymPy


class JobError(Exception):
    """A job did not finish: `status` is the HTTP status and `info` the error the page shows."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.info = {"kind": kind, "message": message, "rendered": message}


def _worker_main(conn: Connection, memory_limit: int | None) -> None:
    """A worker's life: own session, memory cap, imports, then answer jobs until the pipe closes."""
    os.setsid()  # its own process group: killing the group kills Graphviz and SymPy's helpers too
    if memory_limit:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
        except (ImportError, ValueError, OSError):
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    from . import compute

    try:  # warm up: the first check should not pay SymPy's import inside its budget
        import sympy  # noqa: F401
    except ImportError:
        pass
    conn.send("ready")
    while True:
        try:
            kind, payload, budget = conn.recv()
        except (EOFError, OSError):
            return  # the server is gone
        conn.send(compute.run(kind, payload, budget))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx: Any, memory_limit: int | None) -> None:
        self.conn, child = ctx.Pipe()
        # not a daemon: symgraph.check starts a process of its own for SymPy (daemons may not have children);
        # WorkerPool.close, registered with atexit, ends it instead
        self.process = ctx.Process(target=_worker_main, args=(child, memory_limit), daemon=False)
        self.process.start()
        child.close()

    def wait_ready(self, timeout: float) -> bool:
        try:
            return bool(self.conn.poll(timeout)) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            return False

    def kill(self) -> None:
        """Kill the worker and everything it started (its process group)."""
        pid = self.process.pid
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


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
        self._ctx = multiprocessing.get_context("spawn")
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
        w = _Worker(self._ctx, self.memory_limit)
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
            w.conn.send((kind, payload, budget))
            if w.conn.poll(budget):
                ok, result = w.conn.recv()
                self._idle.put(w)
                return ok, result
        except (EOFError, OSError):
            self._discard(w)
            raise JobError(500, "LimitError", "the worker running this formula died (out of memory?)") from None
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
