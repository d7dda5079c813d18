"""The course's stand-in images (cluster/images) against the options of the official images that
the lessons, the labs and a learner's plausible answers use, where containers run (the real node;
kind too): mariadb's and mysql's root-password settings, database and user, their _FILE variants
from a mounted Secret, and the refusal without any; nginx, nginx-unprivileged and httpd serving
their default page and logging requests to stdout; the busybox applets the lessons and labs run.

Every pod starts at once, in a namespace of the module's own (a database takes seconds to
initialise, the machine may have two cores); each test then waits for its own pods."""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

import pytest
import yaml

from graders.cluster import Cluster
from graders.snapshot import Snapshot
from tests.cluster.test_realnode import apply, is_ready, kubectl, pod, status_of, wait_pod
from tests.namespaces import own_namespace

ROOT_PASSWORD, USER_PASSWORD = "r00t-s3cret", "app-s3cret"
SECRETS = "/run/secrets/db"  # where the Secret db is mounted for the _FILE variants
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
          "stringData": {"root-password": ROOT_PASSWORD, "user-password": USER_PASSWORD}}
GENERATED = "generated"  # the root password is the one the entrypoint logs
# Upstream's date, `date --rfc-3339=seconds`, before each line of its entrypoint.
ENTRYPOINT_DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00"


def plain(name: str, value: str) -> dict:
    return {"name": name, "value": value}


def secret(name: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": "db", "key": key}}}


@dataclass(frozen=True)
class Database:
    name: str  # the pod's
    image: str
    env: tuple
    root_password: str  # "" for none, GENERATED for the random one
    has_user: bool = False  # database shop and user app (password USER_PASSWORD)

    @property
    def client(self) -> str:
        return self.image.split(":")[0]  # both clients are in both images: the one a learner would type

    def manifest(self) -> str:
        container = {"name": "db", "image": self.image, "env": list(self.env), "ports": [{"containerPort": 3306}],
                     "readinessProbe": {"tcpSocket": {"port": 3306}, "periodSeconds": 1}}
        if not any(var["name"].endswith("_FILE") for var in self.env):
            return pod(self.name, container)
        container["volumeMounts"] = [{"name": "db", "mountPath": SECRETS, "readOnly": True}]
        return pod(self.name, container, volumes=[{"name": "db", "secret": {"secretName": "db"}}])


def with_user(prefix: str, password: dict) -> tuple:
    return plain(f"{prefix}_DATABASE", "shop"), plain(f"{prefix}_USER", "app"), password


DATABASES = [
    Database("root-password", "mariadb:11.4", (secret("MARIADB_ROOT_PASSWORD", "root-password"),
             *with_user("MARIADB", secret("MARIADB_PASSWORD", "user-password"))), ROOT_PASSWORD, True),
    Database("mysql-root-password", "mysql:8.0", (secret("MYSQL_ROOT_PASSWORD", "root-password"),
             *with_user("MYSQL", secret("MYSQL_PASSWORD", "user-password"))), ROOT_PASSWORD, True),
    Database("random", "mariadb:11.4", (plain("MARIADB_RANDOM_ROOT_PASSWORD", "1"),), GENERATED),
    Database("mysql-random", "mysql:8.0", (plain("MYSQL_RANDOM_ROOT_PASSWORD", "yes"),), GENERATED),
    Database("empty", "mariadb:11.4", (plain("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "1"),), ""),
    Database("mysql-empty", "mysql:8.0", (plain("MYSQL_ALLOW_EMPTY_PASSWORD", "yes"),), ""),
    Database("files", "mariadb:11.4", (plain("MARIADB_ROOT_PASSWORD_FILE", f"{SECRETS}/root-password"),
             *with_user("MARIADB", plain("MARIADB_PASSWORD_FILE", f"{SECRETS}/user-password"))), ROOT_PASSWORD, True),
    Database("mysql-files", "mysql:8.0", (plain("MYSQL_ROOT_PASSWORD_FILE", f"{SECRETS}/root-password"),
             *with_user("MYSQL", plain("MYSQL_PASSWORD_FILE", f"{SECRETS}/user-password"))), ROOT_PASSWORD, True),
]


@dataclass(frozen=True)
class WebServer:
    name: str
    image: str
    port: int
    page: str  # what its default page contains

    def access(self, path: str, status: int) -> str:
        """How its log names a request."""
        return f"url:{path}" if self.name == "httpd" else f'"GET {path} HTTP/1.1" {status}'


WELCOME = "<title>Welcome to nginx!</title>"
WEB_SERVERS = [WebServer("nginx", "nginx:1.27-alpine", 80, WELCOME),
               WebServer("nginx-unprivileged", "nginxinc/nginx-unprivileged:1.27-alpine", 8080, WELCOME),
               WebServer("httpd", "httpd:2.4", 80, "<html><body><h1>It works!</h1></body></html>\n")]

BUSYBOX = "busybox:1.36"
# lesson 04's app: busybox's httpd on localhost only, then the applets are run beside it
APP_PAGE = "hello from the app, in plain HTTP"
APP = ["sh", "-c", f"mkdir -p /www && echo '{APP_PAGE}' > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"]
# What the lessons and labs run in busybox containers, each a script that succeeds when the
# applet does what they rely on. Run in the app pod, as root.
APPLETS = {
    "httpd-and-wget": f'[ "$(wget -qO- http://localhost:8080/)" = "{APP_PAGE}" ]',
    "wget-404": "! wget -qO- http://localhost:8080/nothing-here 2>/tmp/err && grep -q 404 /tmp/err",
    # -T, the network timeout (Debian's busybox crashed on it, exit 139): a page, a refusal and
    # a server that never answers, each as upstream (exit 1 and its message)
    "wget-T": f'[ "$(wget -q -O- -T 2 http://localhost:8080/)" = "{APP_PAGE}" ]',
    "wget-T-refused": "wget -q -O- -T 2 http://localhost:8081/ 2>/tmp/err; "
                      "[ $? -eq 1 ] && grep -q 'Connection refused' /tmp/err",
    "wget-T-times-out": "nc -l -p 8082 >/dev/null & l=$!; sleep 0.3; "
                        "wget -q -O- -T 1 http://127.0.0.1:8082/ 2>/tmp/err; rc=$?; kill $l 2>/dev/null; "
                        "[ $rc -eq 1 ] && grep -q 'download timed out' /tmp/err",
    "nc-z": "nc -z -w 2 127.0.0.1 8080 && ! nc -z -w 2 127.0.0.1 8081",
    "nslookup": 'nslookup kubernetes.default.svc.cluster.local | grep -q "Address.*$KUBERNETES_SERVICE_HOST"',
    "tail-F-waits-for-the-file": "tail -F /tmp/later.log >/tmp/tailed 2>/dev/null & t=$!; sleep 0.3; "
                                 "echo first >/tmp/later.log; i=0; "
                                 "until grep -q first /tmp/tailed || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.1; done; "
                                 "kill $t; grep -q first /tmp/tailed",
    "tail-f-follows": "touch /tmp/now.log; tail -f /tmp/now.log >/tmp/followed & t=$!; sleep 0.3; "
                      "echo appended >>/tmp/now.log; i=0; "
                      "until grep -q appended /tmp/followed || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.1; done; "
                      "kill $t; grep -q appended /tmp/followed",
    "sleep": "sleep 0.2 && sleep 0",
    "arithmetic-and-RANDOM": 'n=$((RANDOM % 100)); [ "$n" -ge 0 ] && [ "$n" -lt 100 ] && [ $((6 * 7)) -eq 42 ]',
    "date": "date +%s | grep -Eqx '[0-9]{10}' && date >/dev/null",
    "sed-E": """[ "$(echo '1700000000 load=42' | sed -E 's/^([0-9]+) load=([0-9]+)$/{"time": \\1, "load": \\2}/')" """
             """= '{"time": 1700000000, "load": 42}' ]""",
    "tr-and-head": "w=$(tr -dc a-z </dev/urandom | head -c 8); echo \"$w\" | grep -Eqx '[a-z]{8}'",
    "tr-cmdline": "[ \"$(tr '\\0' ' ' < /proc/1/cmdline)\" = 'httpd -f -p 127.0.0.1:8080 -h /www ' ]",
    "files": 'd=$(mktemp -d) && mkdir -p "$d/a/b" && touch "$d/a/b/f" && test -f "$d/a/b/f" '
             '&& printf "%s\\n" one two | tee "$d/t" >/dev/null && cp "$d/t" "$d/u" '
             '&& [ $(($(wc -l < "$d/u"))) -eq 2 ] && [ "$(head -1 "$d/u")" = one ] && ls -l "$d/a/b" | grep -q " f$" '
             '&& echo three >> "$d/u" && [ "$(cat "$d/u" | tail -1)" = three ] && rm "$d/u" && ! test -e "$d/u"',
    "grep-E": "printf 'MESSAGE=hi\\nOTHER=x\\n' | grep -E '^(MESSAGE|GREETING)=' | grep -qx MESSAGE=hi",
    "hostname": '[ "$(hostname)" = app ]',
    "id": "id | grep -q '^uid=0(root) gid=0(root)' && [ \"$(id -un)\" = root ]",
    "env": "env | grep -q '^KUBERNETES_SERVICE_HOST='",
    "ps-and-awk": "[ \"$(ps | awk '/httpd -f/ && !/awk/ {print $1}')\" = 1 ]",  # lesson 04's way to a PID
    "command-v": "command -v sleep >/dev/null && ! command -v sleeep",
}
# Each applet's script in a subshell of its own: "ok ID" or "FAIL ID: what it printed"; once the
# app's httpd listens (the pod is Running a moment before).
APPLETS_SCRIPT = "i=0; until nc -z 127.0.0.1 8080 || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.1; done\n" + "\n".join(
    f"if ( {script} ) >/tmp/check.out 2>&1; then echo 'ok {name}'; "
    f"else echo \"FAIL {name}: $(tr '\\n' ' ' </tmp/check.out | head -c 300)\"; fi"
    for name, script in APPLETS.items())


def pods() -> list[str]:
    databases = [db.manifest() for db in DATABASES]
    refused = pod("no-password", {"name": "db", "image": "mariadb:11.4"}, restartPolicy="Never")
    web = [pod(server.name, {"name": "web", "image": server.image, "ports": [{"containerPort": server.port}],
                             "readinessProbe": {"tcpSocket": {"port": server.port}, "periodSeconds": 1}})
           for server in WEB_SERVERS]
    busybox = [pod("app", {"name": "app", "image": BUSYBOX, "command": APP}),
               pod("sleeper", {"name": "app", "image": BUSYBOX, "command": ["sleep", "3600"]}),
               pod("trapper", {"name": "app", "image": BUSYBOX,
                               "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]}, restartPolicy="Never"),
               pod("exits-3", {"name": "app", "image": BUSYBOX,
                               "command": ["sh", "-c", "echo something went wrong >&2; exit 3"]}, restartPolicy="Never"),
               pod("default-command", {"name": "app", "image": BUSYBOX}, restartPolicy="Never")]
    return [yaml.safe_dump(SECRET), *databases, refused, *web, *busybox]


@dataclass
class Started:
    cluster: Cluster
    core: object  # the kubernetes client's CoreV1Api, for tests.waiting
    namespace: str
    at: float  # when the pods were created (for the timings wait_pod prints)


@pytest.fixture(scope="module")
def started(kube):
    from kubernetes import client

    cluster = Cluster.connect()
    if Snapshot(cluster, "default").simulated:
        pytest.skip("the simulated cluster runs no containers: these need the real node (or kind)")
    with own_namespace(cluster, "fidelity") as namespace:
        at = apply(namespace, "---\n".join(pods()))
        yield Started(cluster, client.CoreV1Api(kube), namespace, at)


def first_container(p) -> str:
    return p.spec.containers[0].name


def settled(started: Started, name: str, timeout: float = 90):
    """The pod once Ready, or once its container has ended: a database that crashes is reported
    at its first exit, not after the timeout."""
    def done(p):
        status = status_of(p, first_container(p))
        return is_ready(p) or bool(status and (status.state.terminated or status.last_state.terminated))
    return wait_pod(started.core, started.namespace, name, done, "Ready or ended", started.at, timeout)


def ended(started: Started, name: str, timeout: float = 60):
    return wait_pod(started.core, started.namespace, name,
                    lambda p: bool((s := status_of(p, first_container(p))) and s.state.terminated), "ended",
                    started.at, timeout)


def explain(started: Started, p) -> str:
    """What a pod that did not get Ready shows: its container's state and the end of its log."""
    status = status_of(p, first_container(p))
    log = started.cluster.log(started.namespace, p.metadata.name, first_container(p),
                              previous=bool(status.last_state.terminated)) or ""
    return f"{p.metadata.name}: {status.state} last {status.last_state}\n" + "\n".join(log.splitlines()[-15:])


def assert_ready(started: Started, name: str):
    p = settled(started, name)
    assert is_ready(p) and status_of(p, first_container(p)).restart_count == 0, explain(started, p)
    return p


def streams(started: Started, p, container: str) -> list[tuple[str, str]]:
    """The container's log lines, each with the stream it was written to (stdout or stderr),
    which `kubectl logs` does not tell: the file the kubelet keeps (CRI format: time, stream, tag,
    text), read through the API server's node proxy and the kubelet's /logs/ (which answers only
    requests that accept any type: kubectl's, not graders.cluster's JSON)."""
    meta = p.metadata
    restarts = status_of(p, container).restart_count
    path = (f"/api/v1/nodes/{p.spec.node_name}/proxy/logs/pods/{meta.namespace}_{meta.name}_{meta.uid}/"
            f"{container}/{restarts}.log")
    answer = kubectl("get", "--raw", path)
    assert answer.returncode == 0, f"GET {path}: {answer.stderr}"
    return [(fields[1], fields[3] if len(fields) > 3 else "")
            for fields in (line.split(" ", 3) for line in answer.stdout.splitlines())]


def logged(started: Started, name: str, container: str, text: str, timeout: float = 15) -> None:
    """Wait until the container's log has a line containing `text` (following it, not polling)."""
    lines = started.cluster.follow_log(started.namespace, name, container, since_seconds=3600, timeout=timeout)
    assert any(text in line for line in lines), f"{name}: no log line with {text!r} within {timeout:.0f}s"


def run_in(started: Started, name: str, *command: str):
    return kubectl("exec", name, "-n", started.namespace, "--", *command)


def sql(started: Started, db: Database, user: str, password: str, query: str, *, host: str = "127.0.0.1",
        database: str = "", inside: str = ""):
    """The client, over TCP (as from another pod), run in the database's pod (or `inside` another)."""
    login = [f"-p{password}"] if password else []
    return run_in(started, inside or db.name, db.client, f"-h{host}", f"-u{user}", *login, "-N", "-B",
                  "-e", query, *([database] if database else []))


def generated_password(started: Started, name: str) -> str:
    log = started.cluster.log(started.namespace, name, "db") or ""
    found = re.search(r"\[Entrypoint\]: GENERATED ROOT PASSWORD: (\S+)$", log, re.MULTILINE)
    assert found, f"{name}: no GENERATED ROOT PASSWORD in the log:\n{log[-2000:]}"
    return found.group(1)


# --- mariadb and mysql -----------------------------------------------------------------------

@pytest.mark.parametrize("db", DATABASES, ids=lambda db: db.name)
def test_a_root_setting_starts_the_database_and_root_logs_in_with_it(started, db):
    assert_ready(started, db.name)
    password = generated_password(started, db.name) if db.root_password == GENERATED else db.root_password
    if db.root_password == GENERATED:
        assert len(password) == 32, password
    answer = sql(started, db, "root", password, "select current_user()")
    assert answer.returncode == 0 and answer.stdout.split() == ["root@%"], answer.stdout + answer.stderr
    wrong = sql(started, db, "root", "" if password else "not-the-password", "select 1")
    assert wrong.returncode == 1 and "Access denied for user 'root'" in wrong.stderr, wrong.stdout + wrong.stderr


@pytest.mark.parametrize("db", [db for db in DATABASES if db.has_user], ids=lambda db: db.name)
def test_the_database_and_user_settings_make_both(started, db):
    assert_ready(started, db.name)
    answer = sql(started, db, "app", USER_PASSWORD, "select current_user(), database(); "
                 "create table t (i int); insert into t values (42); select i from t; show databases",
                 database="shop")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.split() == ["app@%", "shop", "42", "information_schema", "shop"], answer.stdout
    other = sql(started, db, "app", USER_PASSWORD, "select 1", database="mysql")
    assert other.returncode == 1 and "Access denied for user 'app'" in other.stderr, other.stdout + other.stderr


def test_another_pod_reaches_the_database_by_its_address(started):
    server, other = DATABASES[0], next(db for db in DATABASES if db.name == "empty")
    address = assert_ready(started, server.name).status.pod_ip
    assert_ready(started, other.name)
    answer = sql(started, server, "app", USER_PASSWORD, "select database()", host=address, database="shop",
                 inside=other.name)
    assert answer.returncode == 0 and answer.stdout.split() == ["shop"], answer.stdout + answer.stderr


def test_the_database_without_a_root_setting_exits_1_with_upstreams_message_on_stderr(started):
    p = ended(started, "no-password")
    end = status_of(p, "db").state.terminated
    assert (end.exit_code, end.reason) == (1, "Error"), explain(started, p)
    errors = [text for stream, text in streams(started, p, "db") if stream == "stderr"]
    assert len(errors) >= 2, errors
    assert re.fullmatch(ENTRYPOINT_DATE + r" \[ERROR\] \[Entrypoint\]: Database is uninitialized and "
                        r"password option is not specified", errors[-2]), errors
    assert errors[-1] == ("\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, "
                          "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD"), errors


# --- nginx, nginx-unprivileged, httpd --------------------------------------------------------

@pytest.mark.parametrize("server", WEB_SERVERS, ids=lambda s: s.name)
def test_a_web_server_serves_its_default_page_and_logs_requests_to_stdout(started, server):
    p = assert_ready(started, server.name)
    page = started.cluster.proxy_get(started.namespace, server.name, server.port, "/index.html")
    assert page.status == 200 and server.page in page.text, page
    missing = f"/missing-{uuid.uuid4().hex[:8]}"
    lost = started.cluster.proxy_get(started.namespace, server.name, server.port, missing)
    assert lost.status == 404, lost
    logged(started, server.name, "web", server.access(missing, 404))
    lines = streams(started, p, "web")
    for path, status in (("/index.html", 200), (missing, 404)):
        found = [stream for stream, text in lines if server.access(path, status) in text]
        assert found == ["stdout"], f"{server.access(path, status)!r} in {lines}"


@pytest.mark.parametrize("server", WEB_SERVERS[:2], ids=lambda s: s.name)
def test_nginx_says_it_is_configured_on_stdout_and_errors_on_stderr(started, server):
    p = assert_ready(started, server.name)
    missing = f"/missing-{uuid.uuid4().hex[:8]}"
    assert started.cluster.proxy_get(started.namespace, server.name, server.port, missing).status == 404
    logged(started, server.name, "web", server.access(missing, 404))
    lines = streams(started, p, "web")
    assert ("stdout", "/docker-entrypoint.sh: Configuration complete; ready for start up") in lines, lines
    error = f'open() "/usr/share/nginx/html{missing}" failed (2: No such file or directory)'
    assert [stream for stream, text in lines if error in text] == ["stderr"], lines


def test_nginx_unprivileged_runs_as_101_with_its_pid_in_tmp(started):
    assert_ready(started, "nginx-unprivileged")
    answer = run_in(started, "nginx-unprivileged", "sh", "-c", "id -u; test -s /tmp/nginx.pid && echo pid")
    assert answer.stdout.split() == ["101", "pid"], answer.stdout + answer.stderr


# --- busybox -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def applets(started) -> dict[str, str]:
    """Each applet check's outcome, "ok" or what it printed, from one exec in the app pod."""
    wait_pod(started.core, started.namespace, "app", lambda p: p.status.phase == "Running", "Running", started.at)
    answer = run_in(started, "app", "sh", "-c", APPLETS_SCRIPT)
    outcomes = {}
    for line in answer.stdout.splitlines():
        if line.startswith("ok "):
            outcomes[line[3:]] = "ok"
        elif line.startswith("FAIL "):
            name, _, said = line[5:].partition(": ")
            outcomes[name] = said or "(it printed nothing)"
    assert outcomes.keys() == APPLETS.keys(), answer.stdout + answer.stderr
    return outcomes


@pytest.mark.parametrize("applet", APPLETS)
def test_a_busybox_applet_does_what_the_lessons_rely_on(applets, applet):
    assert applets[applet] == "ok", f"{APPLETS[applet]}\n-> {applets[applet]}"


def test_sleep_as_pid_1_ignores_sigterm(started):
    wait_pod(started.core, started.namespace, "sleeper", lambda p: p.status.phase == "Running", "Running", started.at)
    answer = run_in(started, "sleeper", "sh", "-c", "kill -TERM 1; sleep 1; kill -0 1 && echo still-running")
    assert answer.stdout.strip() == "still-running", answer.stdout + answer.stderr


def test_a_shell_that_traps_sigterm_exits_0(started):
    wait_pod(started.core, started.namespace, "trapper", lambda p: p.status.phase == "Running", "Running", started.at)
    begun = time.monotonic()
    run_in(started, "trapper", "kill", "-TERM", "1")  # its exit code is 137 when the container ends first
    p = ended(started, "trapper", timeout=20)
    print(f"  trapper: ended {time.monotonic() - begun:.2f}s after SIGTERM")
    end = status_of(p, "app").state.terminated
    assert (end.exit_code, end.reason) == (0, "Completed"), end


def test_a_failing_script_ends_with_its_exit_code_and_its_message_on_stderr(started):
    p = ended(started, "exits-3")
    end = status_of(p, "app").state.terminated
    assert (end.exit_code, end.reason) == (3, "Error"), end
    assert streams(started, p, "app") == [("stderr", "something went wrong")]


def test_busybox_without_a_command_runs_sh_which_ends_at_once(started):
    p = ended(started, "default-command")
    end = status_of(p, "app").state.terminated
    assert (end.exit_code, end.reason) == (0, "Completed"), end
    assert p.spec.containers[0].command is None
