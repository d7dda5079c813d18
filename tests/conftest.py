"""Shared fixtures. Cluster tests use the current kubeconfig context (the course cluster that
`make cluster` brings up); without a reachable cluster they fail, never skip."""
from __future__ import annotations

import os
import uuid

import pytest


def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test is a test that did not run: count it as a failure.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped and session.exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; a skip in CI is a failure.", red=True)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def kube():
    """A kubernetes ApiClient for the current context, checked to answer."""
    from kubernetes import client, config

    try:
        config.load_kube_config()
    except Exception as error:  # no kubeconfig, no current context, unreadable file
        pytest.fail(f"no cluster configured ({error}). Bring the course cluster up: make cluster",
                    pytrace=False)
    api = client.ApiClient()
    try:
        client.VersionApi(api).get_code(_request_timeout=5)
    except Exception as error:
        pytest.fail(f"the cluster does not answer ({type(error).__name__}: {error}). "
                    "Bring the course cluster up: make cluster", pytrace=False)
    return api


@pytest.fixture
def core(kube):
    from kubernetes import client

    return client.CoreV1Api(kube)


@pytest.fixture
def namespace(core):
    """A fresh namespace, deleted afterwards; waits for its default ServiceAccount so pods
    can be created at once."""
    from tests.waiting import watch_until

    name = f"test-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name, "labels": {"pods-course/test": "true"}}})
    try:
        watch_until(core.list_namespaced_service_account, lambda sa: sa.metadata.name == "default",
                    namespace=name, timeout=30, what=f"ServiceAccount default in {name}")
        yield name
    finally:
        # Its pods go at once: on a node whose containers run, pods ending gracefully (a busybox
        # `sleep` ignores SIGTERM for 30 s) would hold their cpu requests against the next test's.
        core.delete_collection_namespaced_pod(name, grace_period_seconds=0)
        core.delete_namespace(name)
