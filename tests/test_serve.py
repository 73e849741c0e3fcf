"""`symgraph serve`: the JSON API and the page, against a real server on an ephemeral port."""

from __future__ import annotations

import ast
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from symgraph.serve import compute, make_server
from symgraph.serve.server import MAX_BODY, MAX_FORMULA_CHARS, PlaygroundServer, host_allowed

ROOT = Path(__file__).resolve().parent.parent
TOWER = "^".join(["x"] * 2500)  # 4,999 characters, 24,993 graph nodes: under explain's limit, seconds of work


@pytest.fixture(scope="module")
def server() -> Iterator[PlaygroundServer]:
    srv = make_server(port=0, workers=2, evaluate_budget=2.0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    srv.pool.close()


def call(
    srv: PlaygroundServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def post(srv: PlaygroundServer, path: str, data: Any, **headers: str) -> tuple[int, dict[str, Any]]:
    h = {"Content-Type": "application/json", **headers}
    status, _, body = call(srv, "POST", path, json.dumps(data).encode(), h)
    return status, json.loads(body)


def evaluate(srv: PlaygroundServer, formula: str, **inputs: str) -> tuple[int, dict[str, Any]]:
    return post(srv, "/api/evaluate", {"formula": formula, "inputs": inputs})


# --- the tutorials' examples -----------------------------------------------------------------------------


def test_first_example_value_gradient_tables_graph_and_code(server: PlaygroundServer) -> None:
    status, r = evaluate(server, "((x+5)^3+1)^2", x="-3")
    assert status == 200 and r["ok"]
    assert r["value"] == {"text": "81", "shape": []}
    assert r["gradients"] == [{"name": "x", "text": "216", "shape": []}]
    assert "df/dt2 = df/dt4 * dt4/dt2 = 18 * 12 = 216" in r["explain"]
    assert r["graph"]["svg"].lstrip().startswith("<?xml") and "<svg" in r["graph"]["svg"]
    assert "def value_and_grad(x):" in r["source"]
    namespace: dict[str, Any] = {}
    exec(r["source"], namespace)  # the module the page offers for download runs on its own
    assert namespace["value_and_grad"](-3.0) == (81.0, (216.0,))


def test_statements_name_the_intermediates_and_their_adjoints(server: PlaygroundServer) -> None:
    status, r = evaluate(server, "h = x + 5\ng = h^3 + 1\nf = g^2", x="-3")
    assert status == 200
    named = {n["name"]: n["text"] for n in r["named"]}
    assert (named["h"], named["g"], named["d_g"], named["d_h"], named["d_x"]) == ("2", "9", "18", "216", "216")


def test_second_and_third_examples(server: PlaygroundServer) -> None:
    _, r = evaluate(server, "(x+y)*z", x="1", y="3", z="-3")
    assert r["value"]["text"] == "-12"
    assert [(g["name"], g["text"]) for g in r["gradients"]] == [("x", "-3"), ("y", "-3"), ("z", "4")]
    status, r = post(
        server,
        "/api/evaluate",
        {"formula": "(w*x+b-y)^2/2", "inputs": {"x": "-3", "y": "5", "w": "3", "b": "1"}, "wrt": ["b", "w", "q"]},
    )
    assert status == 200 and r["value"]["text"] == "84.5" and r["wrt"] == ["w", "b"]
    assert [(g["name"], g["text"]) for g in r["gradients"]] == [("w", "39"), ("b", "-13")]


def test_missing_inputs_default_to_one_and_arrays_keep_their_shape(server: PlaygroundServer) -> None:
    _, r = evaluate(server, "sum(u*v) + c", u="1, 2, 3", v="rand(3)")
    assert r["inputs"]["c"]["text"] == "1" and r["inputs"]["u"]["shape"] == [3]
    grads = {g["name"]: g for g in r["gradients"]}
    assert grads["v"]["text"] == "[1., 2., 3.]" and grads["c"]["text"] == "1"
    _, r = evaluate(server, "mean(a^2)", a="randn(3, 4)")
    assert r["gradients"][0]["shape"] == [3, 4] and r["value"]["shape"] == []


def test_the_check_runs_sympy_and_finite_differences(server: PlaygroundServer) -> None:
    status, r = post(server, "/api/check", {"formula": "(x+y)*z", "wrt": None})
    assert status == 200 and r["passed"] is True
    assert "all gradients agree" in r["text"] and "d_z" in r["text"]


# --- errors the page shows ---------------------------------------------------------------------------------


def test_a_syntax_error_is_a_message_with_its_position(server: PlaygroundServer) -> None:
    status, r = evaluate(server, "x +* y")
    assert status == 422 and not r["ok"]
    e = r["error"]
    assert (e["kind"], e["line"], e["column"], e["offset"]) == ("ParseError", 1, 4, 3)
    assert "expected an operand after '+', found '*'" in e["message"] and "^" in e["rendered"]
    _, r = evaluate(server, "h = x + 5\ng = 2h^3 + 1")
    assert (r["error"]["line"], r["error"]["column"], r["error"]["offset"]) == (2, 6, 15)
    assert "Traceback" not in json.dumps(r)


def test_values_are_parsed_never_evaluated(server: PlaygroundServer) -> None:
    for bad in ("__import__('os').getcwd()", "1+1", "[1, [2]]", "rand(100000, 100000)", "[[[[[[" * 5000):
        status, r = evaluate(server, "x^2", x=bad)
        assert status == 422, bad
        assert r["error"]["kind"] == "InputError" and "Traceback" not in r["error"]["message"]


# --- limits and the time budget ------------------------------------------------------------------------------


def test_size_limits_and_content_type(server: PlaygroundServer) -> None:
    status, r = evaluate(server, "x+" * (MAX_FORMULA_CHARS // 2) + "x")
    assert status == 413 and "limit" in r["error"]["message"]
    status, _, _ = call(server, "POST", "/api/evaluate", b"{" * (MAX_BODY + 1), {"Content-Type": "application/json"})
    assert status == 413
    status, _, _ = call(server, "POST", "/api/evaluate", b'{"formula": "x"}', {"Content-Type": "text/plain"})
    assert status == 415  # a plain HTML form on another site cannot post here
    status, _, _ = call(server, "POST", "/api/evaluate", b"not json", {"Content-Type": "application/json"})
    assert status == 400
    assert post(server, "/api/evaluate", ["x"])[0] == 400
    assert post(server, "/api/evaluate", {"formula": "x", "wrt": "x"})[0] == 400


def test_over_budget_is_killed_with_a_clear_error_while_others_are_served(server: PlaygroundServer) -> None:
    killed = server.pool.killed
    slow: dict[str, Any] = {}

    def pathological() -> None:
        slow["started"] = time.monotonic()
        slow["status"], slow["body"] = evaluate(server, TOWER, x="rand(20, 20)")
        slow["took"] = time.monotonic() - slow["started"]

    thread = threading.Thread(target=pathological)
    thread.start()
    served = []
    while thread.is_alive() and len(served) < 20:
        status, r = evaluate(server, "(x+y)*z", x="1", y="3", z="-3")
        served.append((status, r["value"]["text"] if r["ok"] else r))
    thread.join(30)
    assert served and all(s == (200, "-12") for s in served), served  # other requests kept being served
    assert slow["status"] == 504 and slow["body"]["error"]["kind"] == "TimeLimit"
    assert "time budget of 2 s" in slow["body"]["error"]["message"]
    assert slow["took"] < 10
    assert server.pool.killed == killed + 1
    for _ in range(4):  # the killed worker was replaced: both workers answer again
        assert evaluate(server, "x*2", x="3")[1]["value"]["text"] == "6"


def test_drawing_without_graphviz_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    ok, r = compute.run("evaluate", {"formula": "(x+y)*z", "inputs": {"x": "1", "y": "3", "z": "-3"}}, 5.0)
    assert ok and r["graph"]["svg"] is None and "apt-get install graphviz" in r["graph"]["message"]
    assert r["value"]["text"] == "-12" and "digraph" in r["graph"]["dot"]  # tables and code still work


# --- the page, its assets, and what the server refuses -------------------------------------------------------


def test_page_and_assets_are_served_from_the_package_with_no_external_urls(server: PlaygroundServer) -> None:
    status, headers, page = call(server, "GET", "/?formula=x%2B1&x=2")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in headers["content-security-policy"]
    for path in ("/static/app.js", "/static/style.css"):
        status, headers, body = call(server, "GET", path)
        assert status == 200 and body
        assert b"http://" not in body and b"https://" not in body  # no CDN: everything ships in the wheel
    assert b"http://" not in page and b"https://" not in page
    assert call(server, "GET", "/api/health")[0] == 200


@pytest.mark.parametrize(
    "path", ["/static/../server.py", "/static/%2e%2e/server.py", "/../../etc/passwd", "/static/", "/api/evaluate"]
)
def test_no_file_system_access_and_no_api_by_get(server: PlaygroundServer, path: str) -> None:
    assert call(server, "GET", path)[0] == 404


def test_other_host_names_are_refused(server: PlaygroundServer) -> None:
    for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1:1", "localhost.evil.example"):
        assert call(server, "GET", "/", headers={"Host": host})[0] == 403, host
        status, r = post(server, "/api/evaluate", {"formula": "x"}, Host=host)
        assert status == 403 and r["error"]["kind"] == "Forbidden"
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}", f"[::1]:{server.port}"):
        assert call(server, "GET", "/", headers={"Host": host})[0] == 200, host
    status, _ = post(server, "/api/evaluate", {"formula": "x"}, Origin="http://evil.example")
    assert status == 403
    assert post(server, "/api/evaluate", {"formula": "x"}, Origin=f"http://localhost:{server.port}")[0] == 200


def test_host_rule_for_a_given_host_and_for_every_interface() -> None:
    assert host_allowed("192.168.1.5:8765", "192.168.1.5", 8765)
    assert not host_allowed("192.168.1.6:8765", "192.168.1.5", 8765)
    assert host_allowed("10.0.0.7:8765", "0.0.0.0", 8765)  # any IP literal when bound to every interface
    assert host_allowed("[fe80::1]:8765", "::", 8765)
    assert not host_allowed("attacker.example:8765", "0.0.0.0", 8765)  # never a name: DNS rebinding
    assert not host_allowed("10.0.0.7:9999", "0.0.0.0", 8765)
    assert host_allowed("localhost", "127.0.0.1", 80) and not host_allowed(None, "127.0.0.1", 80)


def test_parse_value() -> None:
    assert compute.parse_value("x", " -3 ") == -3.0 and compute.parse_value("x", "") == 1.0
    assert compute.parse_value("x", "[[1, 2], [3, 4]]").shape == (2, 2)  # type: ignore[union-attr]
    a, b = compute.parse_value("w", "rand(2, 3)"), compute.parse_value("w", "rand(2,3)")
    assert a.shape == (2, 3) and (a == b).all()  # type: ignore[union-attr]  # seeded by name: links reproduce
    with pytest.raises(compute.InputError):
        compute.parse_value("x", "os.system('true')")


def test_the_playground_is_a_small_edge_over_the_public_api() -> None:
    """Modules under 400 lines; from symgraph only the package's public names (and the version string)."""
    for path in sorted((ROOT / "symgraph" / "serve").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 400, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                assert all(a.name == "symgraph" or not a.name.startswith(("symgraph.", "sympy")) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 2:
                assert node.module == "_version", f"{path.name} imports core module {node.module}"
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                assert not node.module.startswith(("symgraph.", "sympy")), f"{path.name}: {node.module}"


# --- the command ------------------------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT as Ctrl-C does")
def test_command_prints_its_url_says_where_it_listens_and_stops_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "symgraph", "serve", "--port", "0", "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        assert first.startswith("symgraph playground: http://127.0.0.1:"), first
        assert "127.0.0.1 only" in second and "Ctrl-C" in second
        port = int(first.strip().rstrip("/").rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/health")
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())["ok"] is True
        conn.close()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0 and "Traceback" not in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- matrix formulas (the job functions, run in this process) ------------------------------------------------


def test_matrix_formulas_in_the_playground() -> None:
    from symgraph.serve import compute

    ok, result = compute.run("evaluate", {"formula": "X: [n, 3]; w: [3]; y: [n]; mean((X @ w - y)^2)"}, 5.0)
    assert ok, result  # empty fields of declared inputs get random arrays of their shape
    assert result["inputs"]["X"]["shape"] == [3, 3] and "[n, 3] (3, 3)" in result["explain"]
    assert "d_w = X.T @ d_t2" in result["explain"]  # t2 = X @ w, named by its node id
    ok, result = compute.run("evaluate", {"formula": "sum(A @ B)"}, 5.0)
    assert not ok and result["kind"] == "InputError" and "works on arrays" in result["message"]
    ok, result = compute.run(
        "evaluate", {"formula": "sum(A @ B)", "inputs": {"A": "rand(2, 3)", "B": "[1, 2, 3]"}}, 5.0
    )
    assert ok and result["gradients"][1]["shape"] == [3]
    ok, result = compute.run("check", {"formula": "X: [n, 3]; w: [3]; y: [n]; mean((X @ w - y)^2)"}, 10.0)
    assert ok and result["passed"], result
