// symgraph playground: sends the formula and the input values to POST /api/evaluate as they change and
// shows what comes back. No framework, no external scripts; text goes into the page as text (textContent),
// the graph as an <img> of the server's SVG (an image cannot run scripts).
"use strict";

const EXAMPLES = [
  { title: "((x+5)^3+1)^2 at x = -3", formula: "h = x + 5\ng = h^3 + 1\nf = g^2", values: { x: "-3" }, wrt: null },
  { title: "(x+y)*z at x = 1, y = 3, z = -3", formula: "(x+y)*z", values: { x: "1", y: "3", z: "-3" }, wrt: null },
  {
    title: "linear regression cost (w*x+b-y)^2/2, gradient for w and b",
    formula: "c = w*x\nf = c + b\nd = f - y\nJ = d^2/2",
    values: { x: "-3", y: "5", w: "3", b: "1" },
    wrt: ["w", "b"],
  },
];
const DEBOUNCE_MS = 250;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/g;

const $ = (id) => document.getElementById(id);
const state = { values: {}, wrt: null, variables: [], seq: 0, controller: null, timer: 0, checked: "", checkSeq: 0 };

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const c of children) node.append(c);
  return node;
}

async function post(path, body, signal) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  let data;
  try {
    data = await response.json();
  } catch (e) {
    data = { ok: false, error: { message: `the server answered ${response.status} without JSON`, rendered: "" } };
  }
  return data;
}

// --- the request -------------------------------------------------------------------------------------

function request() {
  const formula = $("formula").value;
  const names = new Set(formula.match(NAME) || []);
  const inputs = {};
  for (const [k, v] of Object.entries(state.values)) if (names.has(k)) inputs[k] = v;
  return { formula, inputs, wrt: state.wrt };
}

function schedule(delay) {
  clearTimeout(state.timer);
  state.timer = setTimeout(evaluate, delay === undefined ? DEBOUNCE_MS : delay);
}

async function evaluate() {
  const seq = ++state.seq;
  if (state.controller) state.controller.abort();
  state.controller = new AbortController();
  const body = request();
  if (!body.formula.trim()) return;
  $("status").textContent = "evaluating…";
  const started = performance.now();
  let data;
  try {
    data = await post("/api/evaluate", body, state.controller.signal);
  } catch (e) {
    if (e.name === "AbortError") return;
    data = { ok: false, error: { message: "cannot reach the server: is `symgraph serve` still running?" } };
  }
  if (seq !== state.seq) return; // a newer request is on its way
  $("status").textContent = data.ok ? `evaluated in ${Math.round(performance.now() - started)} ms` : "";
  if (data.ok) {
    clearError();
    render(data);
    updateAddress();
    scheduleCheck(data);
  } else {
    showError(data.error || { message: "unknown error" });
  }
}

// --- showing a result --------------------------------------------------------------------------------

function shapeText(shape) {
  return shape && shape.length ? `shape (${shape.join(", ")}${shape.length === 1 ? "," : ""})` : "";
}

function numberRow(cls, label, item, id) {
  return el(
    "div",
    { className: `row ${cls}` },
    el("span", { className: "label" }, label),
    el("span", { className: "num", id }, item.text),
    el("span", { className: "shape" }, shapeText(item.shape)),
  );
}

function renderInputs(data) {
  const same = data.variables.join(",") === state.variables.join(",");
  const body = $("inputs").tBodies[0];
  if (!same) {
    body.replaceChildren();
    for (const name of data.variables) {
      const field = el("input", { type: "text", id: `input-${name}`, value: state.values[name] ?? data.inputs[name].text });
      field.setAttribute("aria-label", `value of ${name}`);
      field.addEventListener("input", () => {
        state.values[name] = field.value;
        schedule();
      });
      body.append(el("tr", {}, el("td", { className: "name" }, name), el("td", {}, field), el("td", { className: "shape" })));
    }
  }
  data.variables.forEach((name, k) => {
    body.rows[k].cells[2].textContent = shapeText(data.inputs[name].shape);
    if (state.values[name] === undefined) state.values[name] = data.inputs[name].text;
  });
}

function renderWrt(data) {
  const box = $("wrt");
  if (data.variables.join(",") !== state.variables.join(",") || box.children.length !== data.variables.length) {
    box.replaceChildren();
    for (const name of data.variables) {
      const tick = el("input", { type: "checkbox", value: name, id: `wrt-${name}` });
      tick.addEventListener("change", () => {
        const chosen = [...box.querySelectorAll("input:checked")].map((t) => t.value);
        state.wrt = chosen.length === data.variables.length || !chosen.length ? null : chosen;
        schedule(0);
      });
      box.append(el("label", {}, tick, ` ${name}`));
    }
  }
  for (const tick of box.querySelectorAll("input")) tick.checked = data.wrt.includes(tick.value);
}

function render(data) {
  renderInputs(data);
  renderWrt(data);
  state.variables = data.variables;
  const result = $("result");
  result.classList.remove("stale");
  result.replaceChildren(numberRow("value", "value", data.value, "value"));
  for (const g of data.gradients) result.append(numberRow("grad", `d_${g.name}`, g, `grad-${g.name}`));
  const warn = $("warnings");
  warn.hidden = !data.warnings.length;
  warn.textContent = data.warnings.length ? "NumPy warned: " + data.warnings.join("; ") : "";
  const named = $("named").tBodies[0];
  named.replaceChildren(
    ...data.named.map((n) => el("tr", {}, el("td", {}, n.name), el("td", {}, n.text), el("td", {}, shapeText(n.shape)))),
  );
  const graph = $("graph");
  graph.classList.remove("stale");
  if (data.graph.svg) {
    const img = el("img", { alt: `computational graph of ${data.formula}` });
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(data.graph.svg);
    graph.replaceChildren(img);
  } else {
    const dot = el("details", {}, el("summary", {}, "DOT text (paste into any Graphviz viewer)"), el("pre", {}, data.graph.dot));
    graph.replaceChildren(el("div", { className: "notice", id: "graph-message" }, data.graph.message), dot);
  }
  $("explain").textContent = data.explain;
  $("explain").classList.remove("stale");
  $("source").textContent = data.source;
  $("source").classList.remove("stale");
  $("check").classList.remove("stale");
  $("download").dataset.filename = `${data.function}.py`;
}

// --- errors: the message, the caret, and the position marked in the formula box ----------------------

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function markPosition(offset) {
  const chars = Array.from($("formula").value);
  const backdrop = $("backdrop");
  if (offset === undefined || offset === null || offset < 0 || offset > chars.length) {
    backdrop.textContent = "";
    return;
  }
  const before = chars.slice(0, offset).join("");
  const at = chars[offset] === undefined || chars[offset] === "\n" ? " " : chars[offset];
  const after = chars.slice(offset + 1).join("");
  // textContent of escaped pieces only: the formula never becomes markup
  backdrop.innerHTML = `${escapeHtml(before)}<mark id="error-mark">${escapeHtml(at)}</mark>${escapeHtml(after)}`;
  backdrop.scrollTop = $("formula").scrollTop;
}

function showError(error) {
  const box = $("error");
  box.hidden = false;
  box.textContent = error.rendered || error.message;
  box.dataset.offset = error.offset ?? "";
  $("formula").setAttribute("aria-invalid", "true");
  $("formula").parentElement.classList.add("invalid");
  markPosition(error.offset);
  for (const id of ["result", "graph", "explain", "source", "check"]) $(id).classList.add("stale");
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
  $("formula").removeAttribute("aria-invalid");
  $("formula").parentElement.classList.remove("invalid");
  $("backdrop").textContent = "";
}

function selectErrorPosition() {
  const offset = Number($("error").dataset.offset);
  if (!$("error").dataset.offset || Number.isNaN(offset)) return;
  const text = $("formula").value;
  const start = Array.from(text).slice(0, offset).join("").length; // code points -> UTF-16 units
  $("formula").focus();
  $("formula").setSelectionRange(start, Math.min(start + 1, text.length));
}

// --- the cross-check, after each new formula ---------------------------------------------------------

function scheduleCheck(data) {
  const key = JSON.stringify([data.formula, data.wrt]);
  if (key === state.checked) return;
  state.checked = key;
  const seq = ++state.checkSeq;
  $("check").textContent = "checking against SymPy and finite differences…";
  $("check-verdict").textContent = "";
  post("/api/check", { formula: data.formula, wrt: data.wrt })
    .then((res) => {
      if (seq !== state.checkSeq) return;
      $("check").textContent = res.ok ? res.text : res.error.rendered || res.error.message;
      const verdict = $("check-verdict");
      verdict.textContent = res.ok ? (res.passed ? "✓ all gradients agree" : "✗ not confirmed") : "";
      verdict.className = res.passed ? "verdict-ok" : "verdict-bad";
    })
    .catch(() => {
      if (seq === state.checkSeq) $("check").textContent = "the check could not reach the server";
    });
}

// --- the shareable address: /?formula=...&x=-3 -------------------------------------------------------

function updateAddress() {
  const params = new URLSearchParams();
  params.set("formula", $("formula").value);
  for (const name of state.variables) if (state.values[name] !== undefined) params.set(name, state.values[name]);
  if (state.wrt) params.set("wrt", state.wrt.join(","));
  history.replaceState(null, "", "?" + params.toString());
}

function loadAddress() {
  const params = new URLSearchParams(location.search);
  if (!params.has("formula")) return false;
  $("formula").value = params.get("formula");
  for (const [k, v] of params) if (k !== "formula" && k !== "wrt") state.values[k] = v;
  const wrt = params.get("wrt");
  state.wrt = wrt ? wrt.split(",").map((w) => w.trim()).filter(Boolean) : null;
  return true;
}

function loadExample(k) {
  const ex = EXAMPLES[k];
  $("formula").value = ex.formula;
  state.values = { ...ex.values };
  state.wrt = ex.wrt;
  state.variables = []; // rebuild the input fields with the example's values
  clearError();
  schedule(0);
}

function download() {
  const blob = new Blob([$("source").textContent], { type: "text/x-python" });
  const link = el("a", { href: URL.createObjectURL(blob), download: $("download").dataset.filename || "value_and_grad.py" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function init() {
  const select = $("examples");
  EXAMPLES.forEach((ex, k) => select.append(el("option", { value: String(k) }, ex.title)));
  select.addEventListener("change", () => {
    if (select.value !== "") loadExample(Number(select.value));
    select.value = "";
  });
  const formula = $("formula");
  formula.addEventListener("input", () => {
    $("backdrop").textContent = "";
    schedule();
  });
  formula.addEventListener("scroll", () => ($("backdrop").scrollTop = formula.scrollTop));
  $("error").addEventListener("click", selectErrorPosition);
  $("download").addEventListener("click", download);
  $("share").addEventListener("click", () => {
    navigator.clipboard.writeText(location.href).then(
      () => ($("status").textContent = "link copied"),
      () => ($("status").textContent = location.href),
    );
  });
  if (loadAddress()) schedule(0);
  else loadExample(0);
}

document.addEventListener("DOMContentLoaded", init);
