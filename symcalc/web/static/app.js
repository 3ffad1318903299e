// The symcalc page: reads the form (or the address's query), asks the local API, shows answers.
// Maths arrives as MathML and plots as SVG, both written by symcalc on this computer.
"use strict";

const $ = (id) => document.getElementById(id);
const FIELDS = { f: "formula", x: "variables", at: "at", order: "order", answer: "answer" };

async function api(endpoint, request) {
  let response;
  try {
    response = await fetch(`/api/${endpoint}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
    });
  } catch (err) {
    return { error: "the symcalc server does not answer: is `symcalc serve` still running?" };
  }
  try {
    return await response.json();
  } catch (err) {
    return { error: `the server answered ${response.status} without JSON` };
  }
}

function currentOp() {
  return document.querySelector('input[name="op"]:checked').value;
}

function request() {
  return {
    formula: $("formula").value,
    latex: $("latex").checked,
    variables: $("variables").value,
    op: currentOp(),
    at: $("at").value,
    ...(currentOp() === "taylor" ? { order: Number($("order").value) || 2 } : {}),
  };
}

function setMath(element, markup) {
  element.innerHTML = markup; // MathML and SVG written (and escaped) by symcalc's server
}

function message(element, text, kind) {
  element.replaceChildren();
  const p = document.createElement("p");
  p.className = kind || "placeholder";
  p.textContent = text;
  element.append(p);
}

function showError(data) {
  const caret = data.kind === "ParseError";
  $("error-title").textContent = caret ? "That formula does not read" : "That did not work";
  $("error-help").hidden = !caret;
  // the message wraps in a paragraph; the formula and its caret keep their columns
  const lines = data.error.split("\n");
  const split = caret && lines.length > 1;
  $("error-message").textContent = split ? lines[0] : "";
  $("error-message").hidden = !split;
  $("error-text").textContent = split ? lines.slice(1).join("\n") : data.error;
  $("error").hidden = false;
}

function hideError() {
  $("error").hidden = true;
  $("error-message").textContent = "";
  $("error-text").textContent = "";
}

function saveAddress(req) {
  const params = new URLSearchParams();
  params.set("f", req.formula);
  if (req.latex) params.set("latex", "1");
  if (req.variables.trim()) params.set("x", req.variables.trim());
  params.set("op", req.op);
  if (req.op === "taylor") params.set("order", String(req.order));
  if (req.at.trim()) params.set("at", req.at.trim());
  if (req.answer && req.answer.trim()) params.set("answer", req.answer.trim());
  history.replaceState(null, "", `/?${params}`);
}

function updateOrderField() {
  $("order-field").classList.toggle("dimmed", currentOp() !== "taylor");
}

// --- computing ------------------------------------------------------------------------------------
let generation = 0;
let computed = null; // the question the results on the page answer

function question(req) {
  return JSON.stringify([req.formula, req.latex, req.variables, req.op, req.order, req.at]);
}

async function compute() {
  const req = request();
  const mine = ++generation;
  if (!req.formula.trim()) {
    message($("result"), "Type a function first.");
    return;
  }
  saveAddress(req);
  computed = question(req);
  document.body.dataset.state = "working";
  const rendered = await api("render", req);
  if (mine !== generation) return;
  if (rendered.error) {
    showError(rendered);
    $("preview").replaceChildren();
    for (const id of ["result", "plot", "steps"]) $(id).replaceChildren();
    $("code").textContent = "";
    $("plot-note").textContent = "";
    document.body.dataset.state = "error";
    return;
  }
  hideError();
  setMath($("preview"), rendered.mathml);
  for (const id of ["result", "plot", "steps"]) message($(id), "Working\u2026");
  await Promise.all([showResult(req), showPlot(req), showSteps(req), showCode(req)]);
  if (mine === generation) document.body.dataset.state = "done";
}

async function showResult(req) {
  const data = await api("derivative", req);
  if (data.error) return message($("result"), data.error, "failure");
  setMath($("result"), data.mathml);
  const text = document.createElement("p");
  text.className = "as-text";
  const plain = (t) => (Array.isArray(t) ? `[${t.map(plain).join(", ")}]` : t);
  text.textContent = "As text: " + plain(data.text);
  $("result").append(text);
}

async function showPlot(req) {
  const data = await api("plot", req);
  if (data.error) {
    $("plot-note").textContent = "";
    return message($("plot"), data.error, "failure");
  }
  setMath($("plot"), data.svg);
  const fixed = data.fixed ? ` Other variables held at ${data.fixed}.` : "";
  $("plot-note").textContent = (data.note ? data.note + ". " : "") +
    `The function along ${data.variable} with its ${data.model} (dashed).${fixed}`;
}

async function showSteps(req) {
  const data = await api("steps", req);
  const box = $("steps");
  if (data.error) return message(box, data.error, "failure");
  box.replaceChildren();
  for (const derivation of data.derivations) {
    const head = document.createElement("div");
    head.className = "derivation-head";
    setMath(head, derivation.mathml);
    const list = document.createElement("ol");
    list.className = "steps";
    list.dataset.variable = derivation.variable;
    for (const step of derivation.steps) {
      const item = document.createElement("li");
      item.dataset.number = step.number;
      item.className = `depth-${Math.min(step.depth, 5)}` + (step.simplification ? " simplification" : "");
      const label = document.createElement("span");
      label.className = "rule";
      label.textContent = `${step.number}. ${step.rule}`;
      const formula = document.createElement("span");
      formula.className = "step-math";
      setMath(formula, step.mathml);
      item.append(label, formula);
      if (step.see || step.note) {
        const note = document.createElement("span");
        note.className = "note";
        note.textContent = step.see ? `as in step ${step.see}` : step.note;
        item.append(note);
      }
      list.append(item);
    }
    box.append(head, list);
  }
}

async function showCode(req) {
  const data = await api("code", req);
  $("code").textContent = data.error ? data.error : data.source;
}

// --- checking an answer ---------------------------------------------------------------------------
async function check() {
  const req = request();
  req.answer = $("answer").value;
  const verdict = $("verdict");
  verdict.hidden = false;
  verdict.className = "verdict";
  if (!req.formula.trim()) return message(verdict, "Type the function first.");
  if (!req.answer.trim()) return message(verdict, "Type your derivative in the box above.");
  document.body.dataset.check = "working";
  if (computed !== question(req)) await compute(); // the steps the verdict points into
  saveAddress(req);
  const data = await api("check", req);
  document.querySelectorAll(".steps li.mistake").forEach((li) => li.classList.remove("mistake"));
  verdict.replaceChildren();
  if (data.error) {
    verdict.classList.add("failure");
    const pre = document.createElement("pre");
    pre.textContent = data.error;
    verdict.append(pre);
    document.body.dataset.check = "error";
    return;
  }
  const kind = data.correct === true ? "right" : data.correct === false ? "wrong" : "undecided";
  verdict.classList.add(kind);
  const title = paragraph("verdict-title",
    { right: "\u2714 Correct", wrong: "\u2718 Not quite", undecided: "? Cannot tell" }[kind]);
  verdict.append(title, comparison("You wrote", data.answer_mathml));
  if (kind !== "right") verdict.append(comparison("The derivative", data.expected_mathml));
  if (kind === "wrong" && data.point) {
    const where = Object.entries(data.point).map(([k, v]) => `${k} = ${short(v)}`).join(", ");
    const yours = data.answer_value === null ? "undefined" : short(data.answer_value);
    verdict.append(paragraph("numbers",
      `At ${where}: the derivative is ${short(data.expected_value)}, yours is ${yours}.`));
  }
  if (data.step) {
    verdict.append(paragraph("where",
      `Where it goes wrong: step ${data.step.number} (${data.step.rule}): ${data.step.mistake}.`));
    const list = document.querySelector(`.steps[data-variable="${CSS.escape(data.variable)}"]`);
    const item = list && list.querySelector(`li[data-number="${data.step.number}"]`);
    if (item) item.classList.add("mistake");
  } else if (kind === "wrong") {
    verdict.append(paragraph("", "No single usual slip explains it: compare with the steps."));
  }
  if (kind === "right") {
    verdict.append(paragraph("", data.message.replace(/^Correct: /, "")));
  } else {
    const details = document.createElement("details");
    details.className = "details";
    const summary = document.createElement("summary");
    summary.textContent = "The whole explanation";
    details.append(summary, paragraph("", data.message));
    verdict.append(details);
  }
  document.body.dataset.check = kind;
}

function paragraph(className, text) {
  const p = document.createElement("p");
  if (className) p.className = className;
  p.textContent = text;
  return p;
}

function comparison(label, markup) {
  const row = document.createElement("div");
  row.className = "compare";
  const name = document.createElement("span");
  name.textContent = label;
  const math = document.createElement("span");
  setMath(math, markup);
  row.append(name, math);
  return row;
}

function short(value) {
  const number = Number(value);
  return Number.isFinite(number) ? String(Number(number.toPrecision(8))) : String(value);
}

// --- live preview, examples, keys -----------------------------------------------------------------
let previewTimer = null;

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(async () => {
    const req = request();
    if (!req.formula.trim()) return $("preview").replaceChildren();
    const data = await api("render", req);
    if (data.error) {
      showError(data);
    } else {
      hideError();
      setMath($("preview"), data.mathml);
    }
  }, 350);
}

function useExample(button) {
  const d = button.dataset;
  $("formula").value = d.f;
  $("latex").checked = d.latex === "1";
  $("variables").value = d.x || "";
  $("at").value = d.at || "";
  $("order").value = d.order || "2";
  $("answer").value = "";
  $("verdict").hidden = true;
  document.querySelector(`input[name="op"][value="${d.op || "diff"}"]`).checked = true;
  updateOrderField();
  compute();
}

function fromAddress() {
  const params = new URLSearchParams(location.search);
  for (const [key, id] of Object.entries(FIELDS)) {
    if (params.has(key)) $(id).value = params.get(key);
  }
  $("latex").checked = ["1", "true", "yes"].includes(params.get("latex") || "");
  const op = document.querySelector(`input[name="op"][value="${CSS.escape(params.get("op") || "diff")}"]`);
  if (op) op.checked = true;
  updateOrderField();
  if (params.get("f")) {
    compute().then(() => (params.get("answer") ? check() : null));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("input-form").addEventListener("submit", (event) => {
    event.preventDefault();
    compute();
  });
  $("answer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    check();
  });
  $("formula").addEventListener("input", () => {
    // symcalc's own language has no backslash: pasted LaTeX is read as LaTeX
    if ($("formula").value.includes("\\")) $("latex").checked = true;
    schedulePreview();
  });
  $("latex").addEventListener("change", schedulePreview);
  for (const radio of document.querySelectorAll('input[name="op"]')) {
    radio.addEventListener("change", () => {
      updateOrderField();
      if ($("formula").value.trim()) compute();
    });
  }
  for (const button of document.querySelectorAll(".chips button")) {
    button.addEventListener("click", () => useExample(button));
  }
  $("copy-code").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("code").textContent);
      $("copy-code").textContent = "Copied";
    } catch (err) {
      $("copy-code").textContent = "Select and copy";
    }
    setTimeout(() => ($("copy-code").textContent = "Copy"), 1500);
  });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      $("formula").focus();
      $("formula").select();
    } else if (event.altKey && event.key.toLowerCase() === "a") {
      event.preventDefault();
      $("answer").focus();
    }
  });
  fromAddress();
});
