"""The local web server: the page in ``static/`` and the JSON API, on 127.0.0.1 only.

Standard library only (``http.server.ThreadingHTTPServer``).  What it refuses:

* any path but the page, its three files and ``POST /api/<endpoint>`` (404), another method
  (405), a ``Host`` other than this server's own address (a page elsewhere cannot reach it by
  DNS rebinding), a POST from another origin or not of JSON (403, 415);
* a body over ``MAX_BODY`` bytes (413) or without a length (411);
* a computation over the time limit: its worker process is killed and the answer is
  ``{"error": "... took longer than ... seconds ..."}`` (HTTP 503).

Every response carries ``Content-Security-Policy: default-src 'self'``: the page loads nothing
from elsewhere and runs no inline script.  Formulas are read by symcalc's parser alone.
"""

from __future__ import annotations

import json
import sys
import threading
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Optional
from urllib.parse import urlsplit

from .api import ENDPOINTS
from .worker import Pool, TimeLimit

HOST = "127.0.0.1"
MAX_BODY = 64 * 1024  # bytes of a request body
TIME_LIMIT = 10.0  # seconds of computation per request
STATIC = {  # path -> (file in static/, content type)
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def static_file(name: str) -> bytes:
    """The bytes of a file of the page, shipped in the package."""
    return resources.files(__package__).joinpath("static", name).read_bytes()


class SymcalcServer(ThreadingHTTPServer):
    """The HTTP server, with its worker pool, time limit and address."""

    daemon_threads = True

    def __init__(self, port: int, time_limit: float, workers: int, quiet: bool):
        self.pool = Pool(workers)  # before binding: a failed bind closes the server
        super().__init__((HOST, port), Handler)
        self.time_limit = time_limit
        self.quiet = quiet
        self.port = self.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self.hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        self.origins = {f"http://{h}" for h in self.hosts}

    def server_close(self) -> None:
        super().server_close()
        self.pool.close()


class Handler(BaseHTTPRequestHandler):
    """One request: a file of the page or an API call."""

    server: SymcalcServer
    timeout = 60  # seconds a client may take to send its request

    # --- responses ---------------------------------------------------------------------------
    def version_string(self) -> str:
        return "symcalc"

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def send_body(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, data: dict, **headers: str) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.send_body(status, body, "application/json; charset=utf-8", **headers)

    def refuse(self, status: HTTPStatus, message: str, **headers: str) -> None:
        self.send_json(status, {"error": message, "status": int(status)}, **headers)

    def send_error(self, code: int, message: Optional[str] = None,
                   explain: Optional[str] = None) -> None:
        """http.server's own refusals (a malformed request, an unknown method), as JSON."""
        self.close_connection = True
        self.send_json(code, {"error": message or HTTPStatus(code).phrase, "status": int(code)},
                       Connection="close")

    def log_message(self, format: str, *args) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    # --- requests ----------------------------------------------------------------------------
    def _path(self) -> Optional[str]:
        """The path asked for, or None after refusing a request for a foreign host."""
        if self.headers.get("Host", "") not in self.server.hosts:
            self.refuse(HTTPStatus.MISDIRECTED_REQUEST, "this server answers only "
                        f"{self.server.url}")
            return None
        return urlsplit(self.path).path

    def do_GET(self) -> None:
        path = self._path()
        if path is None:
            return
        if path in STATIC:
            name, content_type = STATIC[path]
            self.send_body(HTTPStatus.OK, static_file(name), content_type)
        elif path.startswith("/api/") and path[5:] in ENDPOINTS:
            self.refuse(HTTPStatus.METHOD_NOT_ALLOWED, f"{path} takes POST with a JSON body",
                        Allow="POST")
        else:
            self.refuse(HTTPStatus.NOT_FOUND, f"nothing here: {path}")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        path = self._path()
        if path is None:
            return
        endpoint = path[5:] if path.startswith("/api/") else None
        if endpoint not in ENDPOINTS:
            if path in STATIC:
                self.refuse(HTTPStatus.METHOD_NOT_ALLOWED, f"{path} takes GET", Allow="GET, HEAD")
            else:
                self.refuse(HTTPStatus.NOT_FOUND, f"nothing here: {path}")
            return
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.origins:
            self.refuse(HTTPStatus.FORBIDDEN, "requests from other pages are refused")
            return
        if self.headers.get_content_type() != "application/json":
            self.refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the request as application/json")
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.refuse(HTTPStatus.LENGTH_REQUIRED, "the request needs a Content-Length")
            return
        if int(length) > MAX_BODY:
            self.close_connection = True
            if int(length) <= 16 * MAX_BODY:  # read and dropped, so that the client hears why
                self.rfile.read(int(length))
            self.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"the request is larger than {MAX_BODY // 1024} KiB")
            return
        try:
            request = json.loads(self.rfile.read(int(length)).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.refuse(HTTPStatus.BAD_REQUEST, "the request body is not JSON")
            return
        limit = self.server.time_limit
        try:
            answer = self.server.pool.call(endpoint, request, limit)
        except TimeLimit:
            self.send_json(HTTPStatus.SERVICE_UNAVAILABLE, {
                "error": f"this took longer than {limit:g} seconds and was stopped; try a "
                         "smaller formula, a lower order or fewer variables", "kind": "timeout"})
            return
        except (OSError, RuntimeError) as exc:
            self.send_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                           {"error": f"internal error: {exc}", "kind": "internal"})
            return
        status = HTTPStatus.OK if "error" not in answer else HTTPStatus.UNPROCESSABLE_ENTITY
        self.send_json(status, answer)

    def _not_allowed(self) -> None:
        if self._path() is not None:
            self.refuse(HTTPStatus.METHOD_NOT_ALLOWED, f"{self.command} is not served here",
                        Allow="GET, HEAD, POST")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed


def make_server(port: int = 0, *, time_limit: float = TIME_LIMIT, workers: int = 2,
                quiet: bool = True) -> SymcalcServer:
    """A server bound to 127.0.0.1 at ``port`` (0: a free port; see ``.url``), not yet serving:
    call ``serve_forever()`` (in a thread if need be) and ``server_close()`` at the end.
    ``time_limit``: seconds each computation may take; ``workers``: processes computing."""
    server = SymcalcServer(port, time_limit, workers, quiet)
    server.pool.warm()
    return server


def serve(port: int = 0, open_browser: bool = True, out=None) -> None:
    """Serve the page until interrupted (Ctrl+C), printing its address; open it in the
    browser unless ``open_browser`` is false."""
    out = out or sys.stdout
    server = make_server(port, quiet=False)
    print(f"symcalc is serving {server.url}  (Ctrl+C stops it)", file=out, flush=True)
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
