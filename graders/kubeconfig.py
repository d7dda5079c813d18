"""Where the cluster is and how to authenticate: read from kubeconfig, as kubectl does.

The common cases (certificates, tokens, CA data or files, as kind and the simulated cluster
write them) are read here directly, which keeps a cold `grade` fast. A user entry that needs a
plugin (`exec`, `auth-provider`) is handed to the official client's loader, which runs it.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

import yaml


class KubeconfigError(Exception):
    """No usable kubeconfig, context or credentials; the message says what to do."""


@dataclass(frozen=True)
class Connection:
    context: str
    server: str
    namespace: str | None = None  # the context's default namespace
    ca_file: str | None = None
    ca_data: str | None = None  # PEM text
    cert_file: str | None = None
    cert_data: bytes | None = None
    key_file: str | None = None
    key_data: bytes | None = None
    token: str | None = None
    insecure: bool = False


def kubeconfig_paths() -> list[Path]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def _load_merged(paths: list[Path]) -> tuple[dict, Path]:
    """Merge kubeconfig files as kubectl does: the first file to define a name wins."""
    merged: dict = {"clusters": {}, "contexts": {}, "users": {}, "current-context": None}
    base = None
    for path in paths:
        if not path.exists():
            continue
        try:
            doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        except (OSError, yaml.YAMLError) as error:
            raise KubeconfigError(f"cannot read kubeconfig {path}: {error}") from None
        base = base or path
        for section, key in (("clusters", "cluster"), ("contexts", "context"), ("users", "user")):
            for entry in doc.get(section) or []:
                entry_value = dict(entry.get(key) or {})
                entry_value["_dir"] = path.parent
                merged[section].setdefault(entry.get("name"), entry_value)
        merged["current-context"] = merged["current-context"] or doc.get("current-context")
    if base is None:
        raise KubeconfigError(
            f"no kubeconfig found (looked in {', '.join(map(str, paths))}). Bring the course "
            "cluster up with `make cluster`, or point KUBECONFIG at your cluster's kubeconfig.")
    return merged, base


def _file(entry: dict, key: str) -> str | None:
    value = entry.get(key)
    if not value:
        return None
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else entry["_dir"] / path)


def load(context: str | None = None) -> Connection:
    """The connection for `context` (default: the current context)."""
    config, _ = _load_merged(kubeconfig_paths())
    name = context or config["current-context"]
    if not name:
        raise KubeconfigError("kubeconfig has no current context. Choose one with "
                              "`kubectl config use-context NAME`, or bring the course cluster up "
                              "with `make cluster`.")
    ctx = config["contexts"].get(name)
    if ctx is None:
        known = ", ".join(sorted(config["contexts"])) or "none"
        raise KubeconfigError(f"context {name!r} is not in kubeconfig (known: {known}).")
    cluster = config["clusters"].get(ctx.get("cluster"))
    if cluster is None or not cluster.get("server"):
        raise KubeconfigError(f"context {name!r} names cluster {ctx.get('cluster')!r}, which "
                              "kubeconfig does not define.")
    user = config["users"].get(ctx.get("user")) or {}
    if user.get("exec") or user.get("auth-provider"):
        return _load_with_official_client(name, ctx.get("namespace"))
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = Path(_file(user, "tokenFile")).read_text().strip()
    return Connection(
        context=name,
        server=cluster["server"].rstrip("/"),
        namespace=ctx.get("namespace"),
        ca_file=_file(cluster, "certificate-authority"),
        ca_data=_b64(cluster.get("certificate-authority-data"), text=True),
        cert_file=_file(user, "client-certificate"),
        cert_data=_b64(user.get("client-certificate-data")),
        key_file=_file(user, "client-key"),
        key_data=_b64(user.get("client-key-data")),
        token=token,
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
    )


def _b64(value: str | None, text: bool = False):
    if not value:
        return None
    raw = base64.b64decode(value)
    return raw.decode() if text else raw


def _load_with_official_client(context: str, namespace: str | None) -> Connection:
    """Credentials from a plugin: let the official client run it."""
    from kubernetes import client, config as kube_config

    configuration = client.Configuration()
    try:
        kube_config.load_kube_config(context=context, client_configuration=configuration)
    except Exception as error:
        raise KubeconfigError(f"cannot get credentials for context {context!r}: {error}") from None
    auth = configuration.api_key.get("authorization", "")
    return Connection(
        context=context,
        server=configuration.host.rstrip("/"),
        namespace=namespace,
        ca_file=configuration.ssl_ca_cert,
        cert_file=configuration.cert_file,
        key_file=configuration.key_file,
        token=auth.removeprefix("Bearer ").strip() or None,
        insecure=not configuration.verify_ssl,
    )
