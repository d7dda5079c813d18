"""A loopback HTTP proxy in front of the real API server that injects faults on a schedule:
the one place where the tests fake anything, at the HTTP edge we do not own (DESIGN.md).

The grader reaches it over plain http://127.0.0.1:PORT through a kubeconfig written for the
test (no credentials); the proxy forwards to the real API server over HTTPS with the real
kubeconfig's client certificate, streaming, so watches work. Its answers are the API server's
own, or copies of the API server's own error answers (a Status document of the same shape,
with the headers it sends):

    delay        wait `seconds`, then forward
    hang         wait `seconds`, then close without answering (a hung server)
    reset        close the connection at once, without forwarding (nothing was done)
    reset-after  forward, then close without answering (done, but the answer is lost)
    cut          forward a watch, close it after its first event
    429          TooManyRequests with Retry-After `seconds`
    503          ServiceUnavailable with Retry-After `seconds` (an API server shutting down)
    stop         close the listener and every open connection; start again after `seconds`
    401          forwarded with a bogus token and no certificate: the API server's own 401
    403          forwarded as a user with no rights: the API server's own RBAC 403
"""
from __future__ import annotations

import json
import re
import socket
import struct
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import urllib3
import yaml

from graders import kubeconfig

FAULTS = ("delay", "hang", "reset", "reset-after", "cut", "429", "503", "stop", "401", "403")
STRANGER = "pods-course-stranger"  # a user without any rights: the API server denies it
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host",
              "accept-encoding", "proxy-connection", "upgrade", "te", "trailer"}


@dataclass
class Rule:
    """Inject `fault` into the requests that match `method` (None: any) and the regular
    expression `path` (searched in path and query), from the `start`-th match on, every
    `every`-th, at most `times` times (None: no limit)."""
    fault: str
    method: str | None = None
    path: str = ""
    seconds: float = 1.0
    start: int = 1
    every: int = 1
    times: int | None = None
    seen: int = 0
    fired: int = 0

    def __post_init__(self):
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r} (known: {', '.join(FAULTS)})")

    def due(self, method: str, path: str) -> bool:
        if (self.method and method != self.method) or not re.search(self.path, path):
            return False
        self.seen += 1
        if self.times is not None and self.fired >= self.times:
            return False
        if self.seen < self.start or (self.seen - self.start) % self.every:
            return False
        self.fired += 1
        return True


def status(code: int, reason: str, message: str, retry_after: int | None = None) -> dict:
    """An API Status document, keys in the API server's order."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason}
    if retry_after is not None:
        body["details"] = {"retryAfterSeconds": retry_after}
    body["code"] = code
    return body


class FaultProxy:
    def __init__(self, context: str | None = None, rules: list[Rule] | None = None):
        self.connection = kubeconfig.load(context)
        self.rules = list(rules or [])
        self.injected: Counter = Counter()  # fault -> times injected
        self.forwarded = 0
        self.log: list[tuple[str, str, str | None]] = []  # (method, path, fault) of every request
        self._closed = False
        self.port = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._open: set[socket.socket] = set()
        tls = _tls(self.connection)
        self._upstream = urllib3.PoolManager(ssl_context=tls, retries=False, maxsize=32)
        self._anonymous = urllib3.PoolManager(ssl_context=_tls(self.connection, certificate=False),
                                              retries=False, maxsize=4)

    # --- life ------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Listen (again, on the same port once it has one)."""
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.proxy = self
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """As an API server that dies: the listener goes (connections are refused) and every
        open connection is reset."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            open_sockets, self._open = list(self._open), set()
        for sock in open_sockets:
            _reset(sock)

    def stop_for(self, seconds: float) -> None:
        """Stop now, start again `seconds` later (in the background) unless closed by then."""
        def outage():
            self.stop()
            time.sleep(seconds)
            if not self._closed:
                self.start()
        threading.Thread(target=outage, daemon=True).start()

    def close(self) -> None:
        """Stop for good."""
        self._closed = True
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kubeconfig(self, path: Path) -> Path:
        """A kubeconfig whose current context reaches the API server through this proxy."""
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "faultproxy",
            "clusters": [{"name": "faultproxy", "cluster": {"server": self.url}}],
            "users": [{"name": "faultproxy", "user": {}}],
            "contexts": [{"name": "faultproxy", "context": {"cluster": "faultproxy", "user": "faultproxy"}}]}))
        return path

    # --- one request -------------------------------------------------------------------------

    def _fault(self, method: str, path: str) -> Rule | None:
        with self._lock:
            fired = next((rule for rule in self.rules if rule.due(method, path)), None)
            if fired:
                self.injected[fired.fault] += 1
            self.log.append((method, path.split("?")[0], fired.fault if fired else None))
            return fired

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        rule = self._fault(handler.command, handler.path)
        fault = rule.fault if rule else None
        if fault in ("delay", "hang"):
            time.sleep(rule.seconds)
        if fault in ("hang", "reset"):
            return _drop(handler)
        if fault == "stop":
            _drop(handler)
            return self.stop_for(rule.seconds)
        if fault == "429":
            return _answer(handler, 429, status(429, "TooManyRequests", "Too many requests, please try "
                                                "again later.", int(rule.seconds)), int(rule.seconds))
        if fault == "503":
            return _answer(handler, 503, status(503, "ServiceUnavailable", "apiserver is shutting down"),
                           int(rule.seconds))
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        pool = self._upstream
        if fault == "401":
            pool, headers["Authorization"] = self._anonymous, "Bearer not-a-valid-token"
        if fault == "403":
            headers["Impersonate-User"] = STRANGER
            headers.pop("Impersonate-Group", None)
        try:
            upstream = pool.urlopen(handler.command, self.connection.server + handler.path, body=body,
                                    headers=headers, preload_content=False, redirect=False,
                                    timeout=urllib3.Timeout(connect=5, read=600))
        except urllib3.exceptions.HTTPError:
            return _drop(handler)
        with self._lock:
            self.forwarded += 1
        try:
            if fault == "reset-after":
                upstream.read()
                return _drop(handler)
            handler.send_response(upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    handler.send_header(key, value)
            if upstream.chunked:  # a watch: pass each event on as it comes
                handler.send_header("Transfer-Encoding", "chunked")
                handler.end_headers()
                for chunk in upstream.read_chunked(decode_content=True):
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    handler.wfile.flush()
                    if fault == "cut":
                        return _drop(handler)
                handler.wfile.write(b"0\r\n\r\n")
            else:
                data = upstream.read()
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)
        except (OSError, urllib3.exceptions.HTTPError):
            _drop(handler)  # the client or the proxy went away mid-answer
        finally:
            upstream.release_conn()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    proxy: FaultProxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked watches, as the API server speaks

    def setup(self):
        super().setup()
        with self.server.proxy._lock:
            self.server.proxy._open.add(self.connection)

    def finish(self):
        with self.server.proxy._lock:
            self.server.proxy._open.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self):
        self.server.proxy.handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, *args):
        pass


def _answer(handler: BaseHTTPRequestHandler, code: int, body: dict, retry_after: int) -> None:
    data = json.dumps(body).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Retry-After", str(retry_after))
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _drop(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True
    _reset(handler.connection)


def _reset(sock: socket.socket) -> None:
    """Drop the connection now, as a crashed server's kernel does (shutdown: the handler's
    files keep the socket itself open until its thread ends)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    except OSError:
        pass


def _tls(connection: kubeconfig.Connection, certificate: bool = True):
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=connection.ca_file, cadata=connection.ca_data)
    if certificate:
        with tempfile.TemporaryDirectory() as private:
            cert = connection.cert_file or _write(Path(private) / "cert.pem", connection.cert_data)
            key = connection.key_file or _write(Path(private) / "key.pem", connection.key_data)
            context.load_cert_chain(cert, key)
    return context


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    path.chmod(0o600)
    return str(path)
