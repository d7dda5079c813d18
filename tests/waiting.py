"""Waiting in tests: watch the API server with a deadline (never sleep and poll)."""
from __future__ import annotations

import time
from typing import Any, Callable

from kubernetes import watch


def watch_until(list_fn: Callable, predicate: Callable[[Any], bool], *, timeout: float, what: str,
                **list_kwargs) -> Any:
    """Return the first object listed by `list_fn` for which `predicate` holds, now or within
    `timeout` seconds; fail the test otherwise."""
    deadline = time.monotonic() + timeout
    listing = list_fn(**list_kwargs)
    for item in listing.items:
        if predicate(item):
            return item
    version = listing.metadata.resource_version
    while (remaining := deadline - time.monotonic()) > 0:
        stream = watch.Watch().stream(list_fn, resource_version=version,
                                      timeout_seconds=max(1, int(remaining)), **list_kwargs)
        for event in stream:
            obj = event["object"]
            version = obj.metadata.resource_version
            if event["type"] != "DELETED" and predicate(obj):
                return obj
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def watch_gone(list_fn: Callable, name: str, *, timeout: float, what: str, **list_kwargs) -> float:
    """Wait until the object `name` no longer exists; return the seconds it took."""
    started = time.monotonic()
    selector = f"metadata.name={name}"
    listing = list_fn(field_selector=selector, **list_kwargs)
    if not listing.items:
        return 0.0
    version = listing.metadata.resource_version
    while (remaining := started + timeout - time.monotonic()) > 0:
        stream = watch.Watch().stream(list_fn, field_selector=selector, resource_version=version,
                                      timeout_seconds=max(1, int(remaining)), **list_kwargs)
        for event in stream:
            version = event["object"].metadata.resource_version
            if event["type"] == "DELETED":
                return time.monotonic() - started
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} to be gone")
