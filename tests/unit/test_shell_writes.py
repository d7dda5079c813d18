"""What a command line writes (graders.shell_writes, lab3 init-writes-page): the notations
learners use to write a file, read from a container's command and args."""
import pytest

from graders import shell_writes


def sh(script: str) -> dict:
    """prepare as most learners write it: the volume at /work, the script after sh -c."""
    return {"command": ["sh", "-c", script], "volumeMounts": [{"name": "html", "mountPath": "/work"}]}


WRITTEN_BY_SCRIPTS = [
    ("echo '<h1>Hi</h1>' > /work/index.html", ["/work/index.html"]),
    ('echo "<h1>$(hostname)</h1>" >/work/index.html', ["/work/index.html"]),
    ("echo hi >> /work/index.html", ["/work/index.html"]),
    ("echo hi>/work/index.html", ["/work/index.html"]),
    ("echo hi 1>| '/work/index.html'", ["/work/index.html"]),
    ("printf '<h1>%s</h1>\\n' hi > \"/work/index.html\"", ["/work/index.html"]),
    ("cat > /work/index.html <<EOF\n<h1>a > /tmp/b</h1>\nEOF\necho done", ["/work/index.html"]),
    ("cat <<-'END' > /work/index.html\n\t<p>x</p> > /tmp/y\n\tEND\n", ["/work/index.html"]),
    ("echo hi | tee /work/index.html", ["/work/index.html"]),
    ("echo hi | tee -a /work/index.html /tmp/copy", ["/work/index.html", "/tmp/copy"]),
    ("echo hi | tee - >/dev/null", []),
    ("wget -O /work/index.html http://example.com/", ["/work/index.html"]),
    ("wget -qO /work/index.html http://example.com/", ["/work/index.html"]),
    ("wget -qO/work/index.html http://example.com/", ["/work/index.html"]),
    ("wget http://example.com/ -O /work/index.html", ["/work/index.html"]),
    ("wget --output-document=/work/index.html http://example.com/", ["/work/index.html"]),
    ("wget --output-document /work/index.html http://example.com/", ["/work/index.html"]),
    ("wget -O- http://example.com/ > /work/index.html", ["/work/index.html"]),
    ("wget -qO - http://example.com/", []),
    ("wget -P /work http://example.com/", ["/work/index.html"]),
    ("cd /work; wget -q http://example.com/site/page.html?x=1", ["/work/page.html"]),
    ("curl -o /work/index.html http://example.com/", ["/work/index.html"]),
    ("curl -sSLo /work/index.html http://example.com/", ["/work/index.html"]),
    ("curl --output /work/index.html http://example.com/", ["/work/index.html"]),
    ("curl -s http://example.com/ > /work/index.html", ["/work/index.html"]),
    ("cd /work && curl -O http://example.com/index.html", ["/work/index.html"]),
    ("cp /tmp/index.html /work/index.html", ["/work/index.html"]),
    ("cp /tmp/index.html /work/", ["/work/index.html"]),
    ("cp /tmp/index.html /work", ["/work/index.html"]),  # /work is the mount: a directory
    ("mkdir -p /work/site && cp /tmp/index.html /work/site", ["/work/site/index.html"]),
    ("cp /tmp/a.html /tmp/index.html /work/site", ["/work/site/a.html", "/work/site/index.html"]),
    ("cp -t /work /tmp/index.html", ["/work/index.html"]),
    ("cp /etc/hostname /work/site", ["/work/site"]),  # not a known directory: the new file's name
    ("/bin/cp -f /tmp/index.html /work/", ["/work/index.html"]),
    ("mv /tmp/page /work/index.html", ["/work/index.html"]),
    ("cp -r /srv/site/. /work/", ["/work/*"]),
    ("cp -r /srv/site /work/", ["/work/site/*"]),
    ("busybox cp /tmp/index.html /work/", ["/work/index.html"]),
    ("touch /work/index.html", ["/work/index.html"]),
    ("echo hi | dd of=/work/index.html", ["/work/index.html"]),
    ("cd /work && echo hi > index.html", ["/work/index.html"]),
    ("cd /work/ ; echo hi > ./site/../index.html", ["/work/index.html"]),
    ("cd /tmp\necho hi > index.html", ["/tmp/index.html"]),
    ("echo hi > //work//index.html", ["/work/index.html"]),
    ("echo hi > /work/./index.html", ["/work/index.html"]),
    ("mkdir -p /work/site; echo a > /work/site/index.html || echo b > /tmp/index.html",
     ["/work/site/index.html", "/tmp/index.html"]),
    ("set -e; # writes > /tmp/not-this\necho hi > /work/index.html # and > /tmp/nor-this", ["/work/index.html"]),
    ("if [ ! -f /work/index.html ]; then echo hi > /work/index.html; fi", ["/work/index.html"]),
    ("{ echo a; echo b; } > /work/index.html", ["/work/index.html"]),
    ("(cd /work && echo hi > index.html)", ["/work/index.html"]),
    ("echo hi \\\n  > /work/index.html", ["/work/index.html"]),
    ("echo hi > /work/index.html 2>/dev/null 2>&1 >&2", ["/work/index.html"]),
    ("echo hi 2> /tmp/err.log", ["/tmp/err.log"]),
    ("D=/work; echo hi > $D/index.html", ["/work/index.html"]),
    ("export D=/work && echo hi > \"${D}/index.html\"", ["/work/index.html"]),
    ("D='/tmp'; echo hi > \"$D/index.html\"", ["/tmp/index.html"]),
    ("sh -c 'echo hi > /work/index.html'", ["/work/index.html"]),
    ("echo hi > /tmp/index.html", ["/tmp/index.html"]),
    ("echo hi > /work/page.html", ["/work/page.html"]),
    ("echo hi > /work/index.htm", ["/work/index.htm"]),
    ("mkdir -p /work/index.html", []),
    ("echo index.html; cat /work/index.html; ls /work", []),
    ("sleep 1", []),
    # targets it cannot resolve keep what it cannot resolve
    ("echo hi > $DIR/index.html", ["$DIR/index.html"]),
    ("cd $DIR && echo hi > index.html", ["$DIR/index.html"]),
    ("cd && echo hi > index.html", ["$HOME/index.html"]),
    ("echo hi > index.html", ["index.html"]),  # the image's working directory: unknown
    ("cd site && echo hi > index.html", ["site/index.html"]),
    ("echo hi > /work/$(date +%s).html", ["/work/$(date +%s).html"]),
    ("echo hi > `cat /etc/target`", ["`cat /etc/target`"]),
    ("echo hi > ~/index.html", ["~/index.html"]),
    ("for f in index.html about.html; do echo $f > /work/$f; done", ["/work/$f"]),
    ("cp /srv/*.html /work/", ["/work/*.html"]),
]


@pytest.mark.parametrize(("script", "files"), WRITTEN_BY_SCRIPTS)
def test_files_a_script_writes(script, files):
    writes = shell_writes.written_files(sh(script))
    assert writes is not None and list(writes.files) == files
    assert writes.unseen == ()


WORK = [{"name": "html", "mountPath": "/work"}]
WRITTEN_BY_CONTAINERS = [
    ({"command": ["sh", "-c"], "args": ["echo hi > /work/index.html"]}, ["/work/index.html"]),
    ({"command": ["sh"], "args": ["-c", "echo hi > /work/index.html"]}, ["/work/index.html"]),
    ({"args": ["sh", "-c", "echo hi > /work/index.html"]}, ["/work/index.html"]),
    ({"command": ["/bin/sh", "-c", "echo hi > /work/index.html"]}, ["/work/index.html"]),
    ({"command": ["bash", "-c", "echo hi > /work/index.html"]}, ["/work/index.html"]),
    ({"command": ["sh", "-ec", "echo hi > /work/index.html"]}, ["/work/index.html"]),
    ({"command": ["sh", "-e", "-o", "pipefail", "-c", "echo hi > /work/index.html"]}, ["/work/index.html"]),
    ({"command": ["sh", "-c", "echo hi > $1", "sh", "/work/index.html"]}, ["/work/index.html"]),
    ({"command": ["sh", "-c", "echo", "hi", ">", "/work/index.html"]}, []),  # the script is "echo"
    ({"command": ["sh", "-c", "echo hi > index.html"], "workingDir": "/work/"}, ["/work/index.html"]),
    ({"command": ["sh", "-c", "cd site && echo hi > index.html"], "workingDir": "/work"}, ["/work/site/index.html"]),
    ({"command": ["sh", "-c", "echo hi > $SITE/index.html"], "env": [{"name": "SITE", "value": "/work"}]},
     ["/work/index.html"]),
    ({"command": ["sh", "-c", "echo hi > $SITE/index.html"],
      "env": [{"name": "SITE", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]},
     ["$SITE/index.html"]),
    ({"command": ["wget", "-O", "/work/index.html", "http://example.com/"]}, ["/work/index.html"]),
    ({"command": ["cp"], "args": ["/tmp/index.html", "/work"]}, ["/work/index.html"]),
    ({"command": ["touch", "/work/index.html"]}, ["/work/index.html"]),
    ({}, []),
]


@pytest.mark.parametrize(("container", "files"), WRITTEN_BY_CONTAINERS)
def test_files_command_and_args_write(container, files):
    writes = shell_writes.written_files({**container, "volumeMounts": WORK})
    assert writes is not None and list(writes.files) == files


@pytest.mark.parametrize(("script", "unseen"), [
    ("sed -i s/a/b/ /work/index.html", ["sed -i s/a/b/ /work/index.html"]),
    ("ln -s /tmp/index.html /work/index.html", ["ln -s /tmp/index.html /work/index.html"]),
    ("sh /scripts/seed.sh", ["sh /scripts/seed.sh"]),
    ("echo hi > /work/index.html; chmod 644 /work/index.html", []),
])
def test_commands_whose_writes_it_cannot_see(script, unseen):
    assert list(shell_writes.written_files(sh(script)).unseen) == unseen


@pytest.mark.parametrize("script", ["echo 'hi > /work/index.html", 'echo "hi > /work/index.html',
                                    "echo $(cat /x > /work/index.html", "echo `date > /work/index.html"])
def test_a_line_no_shell_can_read(script):
    assert shell_writes.written_files(sh(script)) is None


@pytest.mark.parametrize(("path", "known"), [("/work/index.html", True), ("index.html", False),
                                             ("site/index.html", False), ("$D/index.html", False),
                                             ("/work/$F", False), ("/work/$(date).html", False),
                                             ("/work/*.html", False), ("~/index.html", False)])
def test_resolved_targets(path, known):
    assert shell_writes.resolved(path) is known


@pytest.mark.parametrize(("path", "directory", "under"), [
    ("/work/index.html", "/work", True), ("/work/index.html", "/work/", True),
    ("/work/site/index.html", "/work", True), ("//work//index.html", "/work", True),
    ("/workshop/index.html", "/work", False), ("/tmp/index.html", "/work", False),
    ("/work", "/work", False), ("/work/../tmp/index.html", "/work", False), ("/index.html", "/", True)])
def test_paths_under_a_mount_path(path, directory, under):
    assert shell_writes.lies_under(path, directory) is under


@pytest.mark.parametrize(("path", "may"), [
    ("/work/index.html", True), ("index.html", True), ("$D/index.html", True), ("/work/$F", True),
    ("/work/$(cat /etc/name)", True), ("/work/*.html", True), ("/work/index.*", True),
    ("/work/page.html", False), ("/work/index.htm", False), ("/work/*.txt", False),
    ("/work/index.html.bak", False), ("$D/page.html", False)])
def test_files_that_are_or_may_be_index_html(path, may):
    assert shell_writes.may_be_named(path, "index.html") is may


def test_file_names_and_normal_paths():
    assert shell_writes.file_name("/work/site/index.html") == "index.html"
    assert shell_writes.file_name("/work/$(cat /etc/name)") == "$(cat /etc/name)"
    assert shell_writes.normal_path("//work//site/./index.html") == "/work/site/index.html"
    assert shell_writes.normal_path("/work/") == "/work"


STOPPING = [  # (script, the writes whose failure ends the command line)
    ("touch /logs/app.log && tail -F /logs/app.log", ["/logs/app.log"]),
    ("touch /logs/app.log; tail -F /logs/app.log", []),  # the failed touch is not the end
    ("touch /logs/app.log || true; tail -F /logs/app.log", []),
    ("tail -F /logs/app.log > /logs/copy", ["/logs/copy"]),  # the last command: tail never runs
    ("set -e; touch /logs/app.log; tail -F /logs/app.log", ["/logs/app.log"]),
    ("set -o errexit\ntouch /logs/app.log\ntail -F /logs/app.log", ["/logs/app.log"]),
    ("set -e; set +e; touch /logs/app.log; tail -F /logs/app.log", []),
    ("while true; do date >> /logs/d; sleep 1; done", []),
    ("sh -c 'touch /logs/a' && tail -F /logs/app.log", ["/logs/a"]),
    ("sh -c 'touch /logs/a; echo' && tail -F /logs/app.log", []),  # the inner echo ends it well
    ("sh -c 'touch /logs/a'; tail -F /logs/app.log", []),
]


@pytest.mark.parametrize("script,stopping", STOPPING, ids=[s for s, _ in STOPPING])
def test_writes_that_end_the_line_when_they_fail(script, stopping):
    assert list(shell_writes.written_files({"command": ["sh", "-c", script]}).stopping) == stopping


def test_sh_e_and_a_command_without_a_shell_stop_at_a_failed_write():
    assert shell_writes.written_files({"command": ["sh", "-ec", "touch /l/a; tail -F /l/a"]}).stopping == ("/l/a",)
    assert shell_writes.written_files({"command": ["touch", "/l/a"]}).stopping == ("/l/a",)
