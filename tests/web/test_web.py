"""The local web page: its JSON API, its safety, and the page itself in a real headless Chromium.

API tests talk HTTP (urllib) to a server started on a free port in a thread.  Browser tests run
the Debian package ``chromium`` (``--headless --dump-dom`` / ``--screenshot``) against the same
server; without a Chromium they are skipped with a message, unless ``SYMCALC_REQUIRE_BROWSER=1``
(as in CI), where they fail.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from urllib.parse import urlencode

import pytest

import symcalc as sc
from hypothesis import given
from oracle import check_derivative, check_gradient, check_hessian
from strategies import exprs
from symcalc.steps import render
from symcalc.web import api, make_server
from symcalc.web.mathml import MathMLError, expr_mathml, mathml
from symcalc.web.server import MAX_BODY

MATHML = "{http://www.w3.org/1998/Math/MathML}"


# --- a server in a thread ------------------------------------------------------------------------
class Running:
    def __init__(self, **options):
        self.server = make_server(0, **options)
        self.url = self.server.url
        self.port = self.server.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def server():
    running = Running()
    yield running
    running.close()


def http(server, method, path, body=None, headers=None):
    """(status, headers, parsed JSON or text) of one request; HTTP errors are answers too."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    heads = {"Content-Type": "application/json"} if data is not None else {}
    heads.update(headers or {})
    req = urllib.request.Request(server.url.rstrip("/") + path, data=data, method=method,
                                 headers=heads)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, error.headers, error.read()
    text = raw.decode("utf-8")
    is_json = head.get_content_type() == "application/json"
    return status, head, json.loads(text) if is_json else text


def post(server, endpoint, request):
    status, _, answer = http(server, "POST", f"/api/{endpoint}", request)
    assert status == (422 if "error" in answer else 200), answer
    return answer


def well_formed(markup: str) -> ET.Element:
    """Parse MathML or SVG as XML (the page inserts it as markup: it must be well formed)."""
    if markup.startswith("<math"):
        markup = markup.replace("<math", '<math xmlns="http://www.w3.org/1998/Math/MathML"', 1)
    return ET.fromstring(markup)


# --- the API ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("formula, latex", [
    ("x^2*sin(x)", False),
    ("sigmoid(w*x + b)", False),
    (r"\frac{1}{1 + e^{-x}}", True),
    (r"\sqrt{x^2 + 1} \cdot \ln x", True),
])
def test_render_reads_the_formula_as_the_parser_does(server, formula, latex):
    answer = post(server, "render", {"formula": formula, "latex": latex})
    e = sc.parse(formula, latex=latex)
    assert answer["text"] == str(e)
    assert answer["variables"] == sorted(s.name for s in e.free_symbols)
    assert well_formed(answer["mathml"]).tag == MATHML + "math"


@pytest.mark.parametrize("formula", ["x^2*sin(x)", "sigmoid(3*x - 1)", "log(1 + exp(x))/x",
                                     r"\frac{1}{1 + e^{-x}}"])
def test_the_derivative_is_symcalcs_and_is_right(server, formula):
    latex = formula.startswith("\\")
    answer = post(server, "derivative", {"formula": formula, "latex": latex, "op": "diff"})
    f = sc.parse(formula, latex=latex)
    got = sc.parse(answer["text"])
    assert got == sc.diff(f, "x")
    check_derivative(f, ("x",), got)
    assert well_formed(answer["mathml"]) is not None


def test_gradient_and_hessian(server):
    f = "logsumexp(a, b, c) - a + a^2*b"
    grad = post(server, "derivative", {"formula": f, "op": "grad"})
    assert grad["variables"] == ["a", "b", "c"]
    gradient = [sc.parse(t) for t in grad["text"]]
    check_gradient(f, "a b c", gradient)
    hess = post(server, "derivative", {"formula": f, "op": "hessian", "variables": "a, b"})
    matrix = [[sc.parse(t) for t in row] for row in hess["text"]]
    check_hessian(f, "a b", matrix)
    assert well_formed(hess["mathml"]).iter(MATHML + "mtable")


def test_taylor_is_the_taylor_polynomial(server):
    answer = post(server, "derivative", {"formula": "exp(x)*cos(y)", "op": "taylor", "order": 3,
                                         "at": "x = 0, y = pi/2"})
    polynomial = sc.parse(answer["text"])
    assert polynomial == sc.taylor("exp(x)*cos(y)", {"x": 0, "y": "pi/2"}, 3)
    assert answer["order"] == 3
    # independently: the error at a distance h from the point shrinks as h^4
    errors = []
    for h in (1e-1, 5e-2):
        at = {"x": 0.6 * h, "y": math.pi / 2 - 0.8 * h}
        errors.append(abs(math.exp(at["x"]) * math.cos(at["y"]) - float(sc.subs(polynomial, at))))
    assert 12 < errors[0] / errors[1] < 20


def test_steps_are_the_steps_of_explain(server):
    answer = post(server, "steps", {"formula": "x^2*sin(x)", "op": "diff"})
    (derivation,) = answer["derivations"]
    lines = render.lines(sc.explain("x^2*sin(x)", "x").steps)
    assert [s["rule"] for s in derivation["steps"]] == [line.step.rule for line in lines]
    assert [s["number"] for s in derivation["steps"]] == list(range(1, len(lines) + 1))
    assert {"product", "power", "derivative of sin"} <= {s["rule"] for s in derivation["steps"]}
    for step in derivation["steps"]:
        well_formed(step["mathml"])
    grad = post(server, "steps", {"formula": "x*y^2", "op": "grad"})
    assert [d["variable"] for d in grad["derivations"]] == ["x", "y"]


def test_generated_code_computes_the_function_and_its_derivative(server):
    import numpy as np

    answer = post(server, "code", {"formula": "x^2*sin(x) + sigmoid(x)", "op": "diff"})
    namespace: dict = {}
    exec(compile(answer["source"], "<generated>", "exec"), namespace)
    xs, h = np.linspace(-2, 2, 9), 1e-6
    central = (namespace["f"](xs + h) - namespace["f"](xs - h)) / (2 * h)
    assert np.allclose(namespace["df"](xs), central, rtol=1e-6, atol=1e-6)
    exact = sc.lambdify(sc.diff("x^2*sin(x) + sigmoid(x)", "x"), ["x"])(xs)
    assert np.allclose(namespace["df"](xs), exact, rtol=1e-12)


def test_answer_check_right_and_wrong(server):
    right = post(server, "check", {"formula": "x^2*sin(x)", "answer": "2x sin(x) + x^2 cos(x)"})
    assert right["correct"] is True
    wrong = post(server, "check", {"formula": "sin(x^2)", "answer": "cos(x^2)"})
    assert wrong["correct"] is False
    assert wrong["step"]["rule"] == "chain" and wrong["step"]["number"] == 1
    x = wrong["point"]["x"]
    assert float(wrong["expected_value"]) == pytest.approx(2 * x * math.cos(x * x), rel=1e-12)
    assert float(wrong["answer_value"]) == pytest.approx(math.cos(x * x), rel=1e-12)
    latex = post(server, "check", {"formula": r"\frac{1}{1 + e^{-x}}", "latex": True,
                                   "answer": r"\frac{e^{-x}}{\left(1 + e^{-x}\right)^2}"})
    assert latex["correct"] is True
    grad = post(server, "check", {"formula": "x^2*y", "op": "grad", "answer": "2x y, x^2"})
    assert grad["correct"] is True
    short = post(server, "check", {"formula": "x^2*y", "op": "grad", "answer": "2x y"})
    assert "2 formulas separated by commas" in short["error"]


def test_plot_with_tangent_line(server):
    answer = post(server, "plot", {"formula": "x^2*sin(x)", "op": "diff", "at": "x = 1"})
    svg = well_formed(answer["svg"])
    assert svg.tag.endswith("svg") and answer["segments"] == 1
    tangent = sc.parse("sin(1) + (2*sin(1) + cos(1))*(x - 1)")
    assert sc.equivalent(sc.parse(answer["model_text"]), tangent)
    assert answer["x_range"][0] < 1 < answer["x_range"][1]


@pytest.mark.parametrize("formula, at, pieces", [
    ("1/x", "x = 1", 2),            # a pole at a sample: two branches
    ("1/(x - 1/3)", "x = 1", 2),    # a pole between samples: not joined across it either
    ("tan(x)", "x = 0.5", 3),       # poles at +-pi/2 within [-3.5, 4.5]
    ("sqrt(x)", "x = 1", 1),        # undefined on the left half
    ("log(x)", "x = 0", 1),         # undefined at the point itself: no tangent, still a plot
    ("sqrt(-1 - x^2)", "x = 1", 0),  # nowhere real: nothing drawn, and the page says so
    ("exp(x)", "x = 705", 1),       # values near the largest float: the view stays finite
])
def test_plot_handles_poles_and_undefined_points(server, formula, at, pieces):
    answer = post(server, "plot", {"formula": formula, "op": "diff", "at": at})
    assert answer["segments"] == pieces
    assert not re.search(r"nan|inf", answer["svg"], re.I)
    well_formed(answer["svg"])
    if formula == "log(x)":
        assert answer["model_text"] is None and "x = 0" in answer["note"]
    if pieces == 0:
        assert "no finite real values" in answer["note"]
    lo, hi = answer["y_range"]
    assert math.isfinite(lo) and math.isfinite(hi) and math.isfinite(hi - lo)
    if formula != "exp(x)":
        assert hi - lo < 1e3  # the view is not stretched by the values near a pole


def test_parse_errors_come_with_the_caret(server):
    for formula, latex in [("x^2*sin(x", False), (r"\frac{1}{", True)]:
        with pytest.raises(sc.ParseError) as raised:
            sc.parse(formula, latex=latex)
        for endpoint in ("render", "derivative", "plot"):
            answer = post(server, endpoint, {"formula": formula, "latex": latex})
            assert answer["error"] == str(raised.value) and "^" in answer["error"]
            assert answer["line"] == raised.value.line and answer["column"] == raised.value.column


def test_bad_requests_get_clear_errors(server):
    assert "needs a 'formula'" in post(server, "render", {})["error"]
    assert "must be text" in post(server, "render", {"formula": 3})["error"]
    assert "one of diff" in post(server, "derivative", {"formula": "x", "op": "eval"})["error"]
    assert "from 1 to 8" in post(server, "derivative",
                                 {"formula": "x", "op": "taylor", "order": 99})["error"]
    assert "not a variable" in post(server, "plot", {"formula": "x", "at": "y = 1"})["error"]
    assert "not a number" in post(server, "plot", {"formula": "x*y", "at": "x = y"})["error"]
    assert "not a finite number" in post(server, "plot", {"formula": "x", "at": "1e400"})["error"]
    status, _, answer = http(server, "POST", "/api/render", [1, 2])
    assert status == 422 and "JSON object" in answer["error"]


# --- MathML ----------------------------------------------------------------------------------------
def _call_of(fn) -> sc.Expr:
    args = [sc.Symbol(n) for n in ("x", "y", "z")][:max(fn.min_args, 1)]
    if fn.max_args is None and len(args) < 2:
        args.append(sc.Symbol("y"))
    return fn(*args)


@pytest.mark.parametrize("name", sorted(sc.REGISTRY))
def test_every_function_has_mathml(name):
    fn = sc.REGISTRY[name]
    e = _call_of(fn)
    tex = sc.latex(e)
    markup = mathml(tex, strict=True)  # strict: a command it does not know is an error
    root = well_formed(markup)
    assert "\\" not in markup
    named = re.match(r"\\(?:operatorname\{(\w+)\}|([a-z]+))\\left", tex)
    if named and (named.group(1) or named.group(2)) not in {"sigma"}:
        word = named.group(1) or named.group(2)
        assert word in [el.text for el in root.iter(MATHML + "mi")], (tex, markup)


@given(exprs(depth=3))
def test_random_formulas_and_derivatives_have_mathml(e):
    for f in (e, sc.diff(e, "x")):
        markup = expr_mathml(f)
        well_formed(markup)
        assert "\\" not in markup and "<mtext>" not in markup


def test_mathml_layout():
    root = well_formed(mathml(r"\frac{d}{dx}\left(\frac{1}{x}\right) = -\frac{1}{x^{2}}"))
    assert root.find(f"{MATHML}mrow[@class='tall paren']") is not None  # brackets that grow
    signs = [el for el in root.iter(MATHML + "mo") if el.text == "\u2212"]
    assert [el.get("form") for el in signs] == ["prefix"]  # "= -1/x^2": a sign, not a difference
    assert well_formed(mathml(r"\sqrt[3]{x}")).find(MATHML + "mroot") is not None
    assert well_formed(mathml(r"\text{a < b & c}")).find(MATHML + "mtext").text == "a < b & c"
    with pytest.raises(MathMLError):
        mathml(r"\unknowncommand x", strict=True)
    assert "<mtext>\\unknowncommand</mtext>" in mathml(r"\unknowncommand x")


# --- safety ------------------------------------------------------------------------------------------
def test_every_response_carries_the_content_security_policy(server):
    for method, path, body in [("GET", "/", None), ("GET", "/static/app.js", None),
                               ("POST", "/api/render", {"formula": "x"}), ("GET", "/nope", None)]:
        _, head, _ = http(server, method, path, body)
        assert head["Content-Security-Policy"] == "default-src 'self'"
        assert head["X-Content-Type-Options"] == "nosniff"


def test_unknown_paths_and_methods_are_refused(server):
    assert http(server, "GET", "/etc/passwd")[0] == 404
    assert http(server, "GET", "/static/../server.py")[0] == 404
    assert http(server, "POST", "/api/eval", {"formula": "x"})[0] == 404
    assert http(server, "GET", "/api/render")[0] == 405
    assert http(server, "POST", "/", {"formula": "x"})[0] == 405
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        status, head, answer = http(server, method, "/api/render", {"formula": "x"})
        assert status == 405 and "error" in answer


def test_malformed_requests_get_json_refusals(server):
    import socket

    for raw in (b"GET / HTTP/9.9\r\n\r\n", b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(raw)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        if reply.startswith(b"HTTP/"):
            head, _, body = reply.partition(b"\r\n\r\n")
            assert 400 <= int(head.split()[1]) < 600 and b"default-src 'self'" in head
        else:  # an HTTP/0.9-style reply (a version it does not speak) is the body alone
            body = reply
        assert "error" in json.loads(body)


def test_only_json_of_a_bounded_size_is_read(server):
    status, _, answer = http(server, "POST", "/api/render", {"formula": "x" * (MAX_BODY + 10)})
    assert status == 413 and "larger than" in answer["error"]
    status, _, answer = http(server, "POST", "/api/render", b"formula=x",
                             {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    status, _, answer = http(server, "POST", "/api/render", b"{not json")
    assert status == 400 and "not JSON" in answer["error"]
    assert "longer than" in post(server, "render", {"formula": "x+" * 1500 + "x"})["error"]


def test_other_origins_and_hosts_are_refused(server):
    status, _, _ = http(server, "POST", "/api/render", {"formula": "x"},
                        {"Origin": "http://evil.example"})
    assert status == 403
    status, _, _ = http(server, "GET", "/", None, {"Host": "evil.example"})
    assert status == 421
    status, _, answer = http(server, "POST", "/api/render", {"formula": "x"},
                             {"Origin": server.url.rstrip("/")})
    assert status == 200 and answer["text"] == "x"


def test_formulas_are_never_evaluated_as_python(server, tmp_path):
    marker = tmp_path / "touched"
    for formula in [f"__import__('pathlib').Path('{marker}').touch()",
                    "().__class__.__bases__[0].__subclasses__()", "exec('1')"]:
        answer = post(server, "derivative", {"formula": formula})
        assert answer["kind"] == "ParseError"
    assert not marker.exists()


def test_a_computation_over_the_time_limit_is_stopped():
    running = Running(time_limit=0.5, workers=1)
    try:
        slow = {"formula": "tan(sin(tan(sin(tan(sin(x))))))", "op": "taylor", "order": 8,
                "at": "x = 1"}  # about 10 s of work
        start = time.monotonic()
        status, _, answer = http(running, "POST", "/api/derivative", slow)
        assert status == 503 and "longer than 0.5 seconds" in answer["error"]
        assert time.monotonic() - start < 5
        # the worker was replaced: the next request is answered
        assert post(running, "render", {"formula": "x^2"})["text"] == "x^2"
    finally:
        running.close()


def test_a_worker_that_ended_is_replaced():
    running = Running(workers=1)
    try:
        assert post(running, "render", {"formula": "x"})["text"] == "x"
        (worker,) = running.server.pool.workers
        worker.process.kill()
        worker.process.wait()
        assert post(running, "render", {"formula": "y"})["text"] == "y"
        assert running.server.pool.workers[0] is not worker
    finally:
        running.close()


def test_the_page_loads_nothing_from_elsewhere():
    static = resources.files("symcalc.web").joinpath("static")
    names = sorted(p.name for p in static.iterdir() if p.is_file())
    assert {"index.html", "app.js", "style.css"} <= set(names)
    for name in names:
        text = static.joinpath(name).read_text(encoding="utf-8")
        for url in re.findall(r"(?i)\b(?:https?|ftp|wss?)://[^\s\"'<>)]*", text):
            assert re.match(r"(?i)https?://127\.0\.0\.1[:/]", url), f"{name} refers to {url}"
        assert not re.search(r"(?i)@import|url\(\s*['\"]?(?!#)", text), name
    html = static.joinpath("index.html").read_text(encoding="utf-8")
    # the content security policy forbids inline script and style: the page has none
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=|<style|\son[a-z]+=", html, re.I)


def test_the_cli_serves(tmp_path):
    """``symcalc serve`` prints the address and serves the page there."""
    import sys

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    process = subprocess.Popen([sys.executable, "-m", "symcalc", "serve", "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               cwd=tmp_path)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url, timeout=30) as response:
            assert b"symcalc" in response.read()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_cli_refuses_a_port_it_cannot_use(capsys):
    import socket

    from symcalc.cli.main import main

    assert main(["serve", "--port", "70000", "--no-browser"]) == 2
    assert "at most 65535" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--no-browser"]) == 2
    assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err


# --- a real browser ---------------------------------------------------------------------------------
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
HOW = ("install Chromium to run the browser tests (Debian/Ubuntu: apt-get install chromium), "
       "or point SYMCALC_CHROMIUM at a Chromium executable")


def chromium() -> str:
    """The Chromium executable; none found: skip, or fail under SYMCALC_REQUIRE_BROWSER=1."""
    names = [os.environ["SYMCALC_CHROMIUM"]] if os.environ.get("SYMCALC_CHROMIUM") else BROWSERS
    found = next(filter(None, map(shutil.which, names)), None)
    if found:
        return found
    if os.environ.get("SYMCALC_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SYMCALC_REQUIRE_BROWSER=1 but no Chromium was found: {HOW}")
    pytest.skip(f"no Chromium found: {HOW}")


def test_without_chromium_browser_tests_skip_or_fail_never_pass(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("SYMCALC_CHROMIUM", raising=False)
    monkeypatch.delenv("SYMCALC_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        chromium()
    monkeypatch.setenv("SYMCALC_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        chromium()
    monkeypatch.setenv("SYMCALC_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception):
        chromium()


def run_browser(url: str, tmp_path: Path, *extra: str) -> str:
    """Chromium headless on ``url`` after its scripts have run: standard output."""
    args = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=5000", *extra, url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Elements(HTMLParser):
    """The text and the tags inside each element that has an id, from a DOM dump."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "mspace", "circle", "line", "rect",
            "polyline", "path"}

    def __init__(self, dom: str):
        super().__init__()
        self.open: list[tuple[str, str | None]] = []
        self.text: dict[str, list[str]] = {}
        self.tags: dict[str, list[str]] = {}
        self.attrs: dict[str, dict] = {}
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for _, owner in self.open:
            if owner:
                self.tags[owner].append(tag)
        ident = attrs.get("id")
        if ident:
            self.text[ident], self.tags[ident], self.attrs[ident] = [], [], attrs
        if tag not in self.VOID:
            self.open.append((tag, ident))

    def handle_startendtag(self, tag, attrs):
        for _, owner in self.open:
            if owner:
                self.tags[owner].append(tag)

    def handle_endtag(self, tag):
        for k in range(len(self.open) - 1, -1, -1):
            if self.open[k][0] == tag:
                del self.open[k:]
                break

    def handle_data(self, data):
        for _, owner in self.open:
            if owner:
                self.text[owner].append(data)

    def __getitem__(self, ident: str) -> str:
        return " ".join("".join(self.text[ident]).split())


def page(server, **query) -> str:
    return f"{server.url}?{urlencode(query)}"


@pytest.fixture(scope="module")
def derivative_page(server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    dom = run_browser(page(server, f="x^2*sin(x)", op="diff", at="x = 1"), tmp, "--dump-dom")
    return Elements(dom), dom


def test_browser_shows_the_derivative(derivative_page):
    elements, dom = derivative_page
    assert 'data-state="done"' in dom
    result = elements["result"]
    expected = sc.diff("x^2*sin(x)", "x")
    assert f"As text: {expected}" in result
    check_derivative("x^2*sin(x)", ("x",), sc.parse(result.split("As text: ")[1]))
    assert "math" in elements.tags["result"] and "mfrac" in elements.tags["result"]
    assert "math" in elements.tags["preview"]


def test_browser_shows_the_steps_plot_and_code(derivative_page):
    elements, dom = derivative_page
    lines = render.lines(sc.explain("x^2*sin(x)", "x").steps)
    assert elements.tags["steps"].count("li") == len(lines)
    for line in lines:
        assert f"{line.number}. {line.step.rule}" in elements["steps"]
    assert {"svg", "polyline", "circle"} <= set(elements.tags["plot"])
    assert "tangent line at x = 1" in elements["plot"]
    code = elements["code"]
    assert "def f(x):" in code and "def df(x):" in code and "np.sin(x)" in code
    assert "hidden" in elements.attrs["error"]


def test_browser_shows_the_caret_message(server, tmp_path):
    dom = run_browser(page(server, f="x^2*sin(x"), tmp_path, "--dump-dom")
    elements = Elements(dom)
    assert 'data-state="error"' in dom
    assert "hidden" not in elements.attrs["error"]
    with pytest.raises(sc.ParseError) as raised:
        sc.parse("x^2*sin(x")
    message = re.search(r'<p id="error-message"[^>]*>(.*?)</p>', dom, re.S).group(1)
    shown = re.search(r'<pre id="error-text">(.*?)</pre>', dom, re.S).group(1)
    from html import unescape
    # the message in a paragraph that wraps, the formula and its caret in columns below it
    assert unescape(message) + "\n" + unescape(shown) == str(raised.value)
    assert unescape(shown).splitlines()[-1].strip() == "^"


def test_browser_checks_an_answer_and_names_the_step(server, tmp_path):
    dom = run_browser(page(server, f="sin(x^2)", answer="cos(x^2)"), tmp_path, "--dump-dom")
    elements = Elements(dom)
    assert 'data-check="wrong"' in dom
    verdict = elements["verdict"]
    assert "Not quite" in verdict and "step 1 (chain)" in verdict
    assert "the inner derivative is missing" in verdict
    assert re.search(r'<li data-number="1" class="[^"]*\bmistake\b', dom)
    right = Elements(run_browser(page(server, f=r"\frac{1}{1 + e^{-x}}", latex="1",
                                      answer="exp(-x)/(1 + exp(-x))^2"), tmp_path, "--dump-dom"))
    assert "Correct" in right["verdict"]


def test_browser_requests_stay_on_this_machine(server, tmp_path):
    log = tmp_path / "net.json"
    run_browser(page(server, f="sigmoid(x)", op="grad", answer="sigmoid(x)*(1 - sigmoid(x))"),
                tmp_path, f"--log-net-log={log}", "--dump-dom")
    events = json.loads(log.read_text())
    start = events["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    origin = server.url.rstrip("/")
    by_page = [e["params"]["url"] for e in events["events"]
               if e["type"] == start and e.get("params", {}).get("initiator") == origin]
    assert any(u.endswith("/api/check") for u in by_page)  # the page's requests are seen
    assert all(u.startswith(origin + "/") for u in by_page), by_page
    initiators = {e["params"].get("initiator") for e in events["events"]
                  if e["type"] == start and "params" in e}
    assert initiators <= {origin, "not an origin", None}  # no other page, no other origin


def test_browser_screenshot(server, tmp_path):
    shot = tmp_path / "page.png"
    run_browser(page(server, f="logsumexp(a, b, c) - a", op="grad", at="a = 1, b = 0, c = -1"),
                tmp_path, f"--screenshot={shot}", "--window-size=1280,1600")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 1600)
    assert len(data) > 50_000  # a page with text, maths and a plot, not a blank one
    keep = os.environ.get("SYMCALC_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / "symcalc-page.png")
