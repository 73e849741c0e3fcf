"""The playground's HTTP server: the standard library's ThreadingHTTPServer, a page, and two JSON endpoints.

GET serves the page and its two assets (held in memory: no file system access from a request) and
/api/health; nothing a GET does changes state. POST /api/evaluate and POST /api/check take JSON
(Content-Type application/json, so a plain HTML form on another site cannot post here), at most
MAX_BODY bytes with a formula of at most MAX_FORMULA_CHARS, and run in the worker pool under a time
budget. Every request must name this server in its Host header (127.0.0.1, localhost, [::1] or the
--host given, with the port): a page on another site that rebinds its DNS name to 127.0.0.1 is refused.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from .._version import __version__
from .worker import JobError, WorkerPool

MAX_BODY = 64 * 1024  # bytes of one POST body
MAX_FORMULA_CHARS = 10_000  # compiles in under a second even for the worst shapes (see README: untrusted input)
MAX_INPUTS = 200
EVALUATE_BUDGET = 5.0  # seconds of a worker's time per evaluation
CHECK_BUDGET = 10.0  # seconds per check (SymPy's own timeout is a third of it)
MEMORY_LIMIT = 2 << 30  # bytes of address space per worker (POSIX): a formula that needs more gets a clear error
SOCKET_TIMEOUT = 15.0  # a client that stops sending mid-request is dropped
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def url_host(host: str) -> str:
    """A host as it appears in a URL: IPv6 literals in brackets; the wildcard as 127.0.0.1."""
    if host in WILDCARDS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def load_assets() -> dict[str, bytes]:
    """The page's files, read once from the package (they ship inside the wheel)."""
    static = resources.files("symgraph.serve").joinpath("static")
    return {name: static.joinpath(name).read_bytes() for name, _ in set(ASSETS.values())}


class PlaygroundServer(ThreadingHTTPServer):
    """The server with its worker pool, its assets and the Host values it answers to."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, pool: WorkerPool, quiet: bool = True) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), Handler)
        self.host = host
        self.port = int(self.server_address[1])
        self.pool = pool
        self.quiet = quiet
        self.assets = load_assets()
        self.url = f"http://{url_host(host)}:{self.port}/"
        self.budgets = {"evaluate": EVALUATE_BUDGET, "check": CHECK_BUDGET}  # seconds of worker time per job

    def host_allowed(self, value: str | None) -> bool:
        """True for a Host header naming this server (DNS-rebinding protection)."""
        return host_allowed(value, self.host, self.port)


def host_allowed(value: str | None, host: str, port: int) -> bool:
    """True when a Host header (or an Origin's host) names the server bound to `host`:`port`: a loopback
    name or the --host given, with the port. Bound to every interface, any IP literal with the port too;
    never another name, which is what a DNS-rebinding page would send."""
    if not value:
        return False
    value = value.strip().lower()
    names = {*LOOPBACK_NAMES, url_host(host).lower()}
    if value in {f"{n}:{port}" for n in names} or (port == 80 and value in names):
        return True
    if host in WILDCARDS:
        name, _, given = value.rpartition(":")
        try:
            ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
        except ValueError:
            return False
        return given == str(port)
    return False


class Handler(BaseHTTPRequestHandler):
    """One request: the host check, then the page, an asset, or a JSON job."""

    server: PlaygroundServer
    timeout = SOCKET_TIMEOUT
    server_version = f"symgraph-serve/{__version__}"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if not self.server.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in SECURITY_HEADERS.items():
            self.send_header(k, v)
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client went away: nothing left to tell it
            self.close_connection = True

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode(), "application/json; charset=utf-8")

    def _error(self, status: int, kind: str, message: str) -> None:
        self._json(status, {"ok": False, "error": {"kind": kind, "message": message, "rendered": message}})

    def _host_ok(self) -> bool:
        if self.server.host_allowed(self.headers.get("Host")):
            return True
        self.close_connection = True
        self._error(403, "Forbidden", "this server answers only to its own address (Host header refused)")
        return False

    def do_GET(self) -> None:
        """The page, its assets, or /api/health."""
        if not self._host_ok():
            return
        path = urlsplit(self.path).path
        if path == "/api/health":
            self._json(200, {"ok": True, "version": __version__})
        elif path in ASSETS:
            name, content_type = ASSETS[path]
            self._send(200, self.server.assets[name], content_type)
        else:
            self._error(404, "NotFound", f"no such page: {path[:100]}")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        """A JSON job: /api/evaluate or /api/check."""
        if not self._host_ok():
            return
        self.close_connection = True  # a refused body may be left unread: never reuse the connection
        path = urlsplit(self.path).path
        jobs = {"/api/evaluate": "evaluate", "/api/check": "check"}
        if path not in jobs:
            return self._error(404, "NotFound", f"no such endpoint: {path[:100]}")
        origin = self.headers.get("Origin")
        if origin and not self.server.host_allowed(urlsplit(origin).netloc or "-"):
            return self._error(403, "Forbidden", "requests from other sites are refused (Origin header)")
        if self.headers.get_content_type() != "application/json":
            return self._error(415, "BadRequest", "POST a JSON body with Content-Type: application/json")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._error(411, "BadRequest", "the request needs a Content-Length")
        if length < 0 or length > MAX_BODY:
            return self._error(413, "LimitError", f"the request body is over the limit of {MAX_BODY // 1024} KiB")
        try:
            payload = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return self._error(400, "BadRequest", "the request body is not valid JSON")
        problem = validate(payload)
        if problem:
            status = 413 if "limit" in problem else 400
            return self._error(status, "LimitError" if status == 413 else "BadRequest", problem)
        kind = jobs[path]
        try:
            ok, result = self.server.pool.run(kind, payload, self.server.budgets[kind])
        except JobError as e:
            return self._json(e.status, {"ok": False, "error": e.info})
        if ok:
            self._json(200, {"ok": True, **result})
        else:
            status = 500 if result.get("kind") == "InternalError" else 422
            self._json(status, {"ok": False, "error": result})


def validate(payload: Any) -> str | None:
    """What is wrong with a job's JSON ({"formula": str, "inputs": {name: str|number}, "wrt": [str]}), or None."""
    if not isinstance(payload, dict) or not isinstance(payload.get("formula"), str):
        return 'the body must be a JSON object with a "formula" string'
    if len(payload["formula"]) > MAX_FORMULA_CHARS:
        return (
            f"the formula has {len(payload['formula']):,} characters; the playground's limit is {MAX_FORMULA_CHARS:,}"
        )
    inputs = payload.get("inputs", {})
    if not isinstance(inputs, dict) or len(inputs) > MAX_INPUTS:
        return f'"inputs" must be an object of at most {MAX_INPUTS} name: value pairs'
    for k, v in inputs.items():
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            return f'input {k[:40]!r}: a value is a number or a text like "1, 2, 3" or "rand(3, 4)"'
    wrt = payload.get("wrt")
    if wrt is not None and not (isinstance(wrt, list) and all(isinstance(w, str) for w in wrt)):
        return '"wrt" must be a list of input names'
    payload["inputs"] = {str(k): str(v) for k, v in inputs.items()}
    return None


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    workers: int = 2,
    quiet: bool = True,
    memory_limit: int | None = MEMORY_LIMIT,
    evaluate_budget: float = EVALUATE_BUDGET,
) -> PlaygroundServer:
    """A started worker pool and a bound server (port 0: a free port, read it from `.port`); call serve_forever."""
    pool = WorkerPool(size=workers, memory_limit=memory_limit)
    pool.start()
    try:
        server = PlaygroundServer(host, port, pool, quiet=quiet)
        server.budgets["evaluate"] = evaluate_budget
        return server
    except BaseException:
        pool.close()
        raise


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False, workers: int = 2) -> int:
    """`symgraph serve`: print the URL and serve until Ctrl-C, then stop the workers and return 0."""
    if not 1 <= workers <= 64:
        print(f"symgraph: error: --workers must be between 1 and 64, got {workers}", file=sys.stderr)
        return 2
    try:
        server = make_server(host, port, workers, quiet=False)
    except OSError as e:
        print(
            f"symgraph: error: cannot listen on {host}:{port}: {e.strerror or e} (try another --port)", file=sys.stderr
        )
        return 1
    if host in WILDCARDS:
        where = "on every network interface: other machines can reach it"
    elif host in ("127.0.0.1", "localhost", "::1"):
        where = f"on {host} only: other machines cannot reach it (--host 0.0.0.0 to share it)"
    else:
        where = f"on {host}"
    print(f"symgraph playground: {server.url}", flush=True)
    print(f"listening {where}; {workers} worker processes; Ctrl-C stops", flush=True)
    if open_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    finally:
        server.server_close()
        server.pool.close()
    return 0
