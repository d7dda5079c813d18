"""The only door to the cluster: reads and writes objects as plain dicts with the API's own
camelCase keys (what the learner wrote), watches with deadlines, and turns transport and API
failures into a few errors that say what happened and what to do.

It speaks HTTP to the API server through urllib3 (the library under the official client) so
that a cold `grade` does not pay for the official client's ~250 model modules; credentials come
from kubeconfig (graders.kubeconfig), exactly as kubectl finds them.
"""
from __future__ import annotations

import json
import os
import ssl
import tempfile
import time
from typing import Iterator
from urllib.parse import urlencode

import urllib3

from graders import kubeconfig

# kind -> (API prefix, resource, namespaced)
KINDS = {
    "Pod": ("/api/v1", "pods", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "Secret": ("/api/v1", "secrets", True),
    "ResourceQuota": ("/api/v1", "resourcequotas", True),
    "LimitRange": ("/api/v1", "limitranges", True),
    "Event": ("/api/v1", "events", True),
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "SubjectAccessReview": ("/apis/authorization.k8s.io/v1", "subjectaccessreviews", False),
    "Namespace": ("/api/v1", "namespaces", False),
    "Node": ("/api/v1", "nodes", False),
}


class ClusterError(Exception):
    """The grader could not talk to the cluster as needed. Never the learner's fault."""


class Unreachable(ClusterError):
    pass


class Unauthorized(ClusterError):
    pass


class Forbidden(ClusterError):
    pass


class ApiError(ClusterError):
    def __init__(self, status: int, reason: str, message: str, body: dict | None = None):
        super().__init__(message)
        self.status, self.reason, self.body = status, reason, body or {}


class Refused(ApiError):
    """Admission said no (quota, LimitRange, Pod Security): an answer about the object, not
    about our permissions. The message is the API server's own."""


def resource_path(kind: str, namespace: str | None = None, name: str | None = None) -> str:
    try:
        prefix, resource, namespaced = KINDS[kind]
    except KeyError:
        raise ValueError(f"kind {kind!r} is not known to graders.cluster") from None
    parts = [prefix]
    if namespaced:
        if not namespace:
            raise ValueError(f"{kind} is namespaced: give a namespace")
        parts += ["namespaces", namespace]
    parts.append(resource)
    if name:
        parts.append(name)
    return "/".join(parts)


class Cluster:
    """One cluster, as named by a kubeconfig context."""

    def __init__(self, connection: kubeconfig.Connection, timeout: float = 10.0, *,
                 impersonate: str | None = None):
        self.connection = connection
        self.timeout = timeout
        self.impersonated = impersonate  # the user every request acts as, if not ourselves
        headers = _headers(connection)
        if impersonate:
            headers["Impersonate-User"] = impersonate
        self._http = urllib3.PoolManager(ssl_context=_ssl_context(connection), retries=False,
                                         maxsize=8, headers=headers)

    def impersonating(self, user: str) -> "Cluster":
        """The same cluster, every request made as `user` (a ServiceAccount's user name gets its
        groups from the API server). Our own identity needs the `impersonate` verb."""
        return Cluster(self.connection, self.timeout, impersonate=user)

    @classmethod
    def connect(cls, context: str | None = None, timeout: float = 10.0) -> "Cluster":
        try:
            return cls(kubeconfig.load(context), timeout)
        except kubeconfig.KubeconfigError as error:
            raise Unreachable(str(error)) from None

    @property
    def context(self) -> str:
        return self.connection.context

    # --- requests ---------------------------------------------------------------------------

    def request(self, method: str, path: str, *, query: dict | None = None, body: dict | None = None,
                timeout: float | None = None, deadline: float | None = None) -> dict:
        """One API call; reads are retried on transient failures until `deadline` (seconds from
        now, default the client timeout), writes are not (they may have been applied)."""
        url = self.connection.server + path + ("?" + urlencode(query) if query else "")
        payload = json.dumps(body).encode() if body is not None else None
        # Per-request headers replace the pool's (credentials, impersonation): extend them.
        headers = {**self._http.headers, "Content-Type": "application/json"} if payload is not None else None
        give_up = time.monotonic() + (deadline or self.timeout)
        while True:
            try:
                response = self._http.request(method, url, body=payload, headers=headers,
                                              timeout=urllib3.Timeout(connect=min(3.0, self.timeout),
                                                                      read=timeout or self.timeout))
            except urllib3.exceptions.HTTPError as error:
                if method == "GET" and time.monotonic() < give_up and _transient(error):
                    time.sleep(0.2)
                    continue
                raise self._unreachable(error) from None
            if response.status in (429, 503) and method == "GET" and time.monotonic() < give_up:
                time.sleep(min(float(response.headers.get("Retry-After") or 1), 2.0))
                continue
            return self._decode(response.status, response.data, method, path)

    def _decode(self, status: int, raw: bytes, method: str, path: str) -> dict:
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {"message": raw[:200].decode(errors="replace")}
        if status < 400:
            return data
        message = data.get("message") or f"HTTP {status}"
        if status == 401:
            raise Unauthorized(f"the cluster (context {self.context}) refused our credentials: "
                               f"{message}. Check your kubeconfig, or recreate the course cluster "
                               "with `make cluster`.")
        if status == 403:
            # RBAC's denial names the user that "cannot" act; any other 403 is admission's verdict.
            if 'User "' in message and " cannot " in message:
                raise Forbidden(f"permission denied for {method} {path} (context {self.context}): {message}")
            raise Refused(status, data.get("reason", ""), message, data)
        raise ApiError(status, data.get("reason", ""), message, data)

    def _unreachable(self, error: Exception) -> Unreachable:
        reason = getattr(error, "reason", None) or error
        return Unreachable(
            f"cannot reach the cluster of context {self.context!r} at {self.connection.server} "
            f"({type(reason).__name__}: {reason}). Is it running? For the course cluster run "
            "`make cluster` (or `python cluster/cluster.py up`); to grade another cluster pass "
            "--context NAME.")

    # --- objects ----------------------------------------------------------------------------

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        """The object, or None when it does not exist."""
        try:
            return self.request("GET", resource_path(kind, namespace, name))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def list(self, kind: str, namespace: str | None = None, **query) -> dict:
        """The list object (items and metadata.resourceVersion)."""
        return self.request("GET", resource_path(kind, namespace), query=query or None)

    def create(self, kind: str, body: dict, namespace: str | None = None, *, dry_run: bool = False) -> dict:
        query = {"dryRun": "All"} if dry_run else None
        return self.request("POST", resource_path(kind, namespace), query=query, body=body)

    def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete; False when it was already gone."""
        try:
            self.request("DELETE", resource_path(kind, namespace, name))
            return True
        except ApiError as error:
            if error.status == 404:
                return False
            raise

    def delete_all(self, kind: str, namespace: str, *, grace_seconds: int | None = None) -> None:
        """Delete every object of `kind` in `namespace` (grace 0: at once, not waiting for the
        kubelet)."""
        query = {"gracePeriodSeconds": grace_seconds} if grace_seconds is not None else None
        self.request("DELETE", resource_path(kind, namespace), query=query)

    def watch(self, kind: str, namespace: str | None, resource_version: str,
              timeout: float, **query) -> Iterator[tuple[str, dict]]:
        """(event type, object) pairs after `resource_version`, for at most `timeout` seconds;
        `query` narrows it (fieldSelector=..., labelSelector=...)."""
        seconds = max(1, int(timeout + 0.999))
        query.update({"watch": "1", "resourceVersion": resource_version, "timeoutSeconds": seconds,
                      "allowWatchBookmarks": "false"})
        url = self.connection.server + resource_path(kind, namespace) + "?" + urlencode(query)
        try:
            response = self._http.request("GET", url, preload_content=False,
                                          timeout=urllib3.Timeout(connect=3.0, read=seconds + 5))
        except urllib3.exceptions.HTTPError as error:
            raise self._unreachable(error) from None
        try:
            if response.status >= 400:
                self._decode(response.status, response.read(), "GET", url)
            buffer = b""
            for chunk in response.stream(4096):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        event = json.loads(line)
                        yield event["type"], event["object"]
        except urllib3.exceptions.ReadTimeoutError:
            return
        except urllib3.exceptions.ProtocolError as error:
            raise self._unreachable(error) from None
        finally:
            response.release_conn()


def _transient(error: Exception) -> bool:
    return isinstance(error, (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError))


def _headers(connection: kubeconfig.Connection) -> dict:
    headers = {"Accept": "application/json", "User-Agent": "pods-course-grader"}
    if connection.token:
        headers["Authorization"] = f"Bearer {connection.token}"
    return headers


def _ssl_context(connection: kubeconfig.Connection) -> ssl.SSLContext | None:
    if not connection.server.startswith("https://"):
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if connection.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif connection.ca_file or connection.ca_data:
        context.load_verify_locations(cafile=connection.ca_file, cadata=connection.ca_data)
    else:
        context.load_default_certs()
    cert, key = connection.cert_file, connection.key_file
    if connection.cert_data or connection.key_data:
        # ssl loads client certificates only from files: write them briefly, owner-only.
        with tempfile.TemporaryDirectory() as private:
            cert = cert or _write(private, "cert.pem", connection.cert_data)
            key = key or _write(private, "key.pem", connection.key_data)
            context.load_cert_chain(cert, key)
    elif cert:
        context.load_cert_chain(cert, key)
    return context


def _write(directory: str, name: str, data: bytes) -> str:
    path = os.path.join(directory, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as handle:
        handle.write(data)
    return path
