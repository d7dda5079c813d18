"""What a command line writes: the files a container's command and args write, as far as the
command line shows (lab3 init-writes-page). Pure functions on plain dicts.

Enough of the shell to follow the ways a file gets written on a command line: redirects (also in
heredocs), tee, cp / mv / install, wget -O, curl -o, touch, dd of=; `sh -c` scripts, `cd`, the
container's workingDir, and variables set on the line or given in env. A target it cannot
resolve keeps what it cannot resolve, as written: `$DIR/index.html`, `$(date).html`, `*.html`,
or a relative path when the directory is unknown.

It also tells which writes end the command line when they fail (a read-only mount refuses
them): one followed by `&&`, the last command of the line, or any under `set -e` / `sh -e`.
`touch f; tail -F f` goes on after a failed touch; `touch f && tail -F f` ends there.

Limits: it reads, it does not run. Every branch counts (`a > x || b > y` writes x and y), loops
run once, command substitutions and unknown variables stay as written, a program it does not
know (sed -i, ln, a script file) is listed as unseen. Scripts nested in scripts are followed
three shells deep; a variable value longer than any path is dropped; a line is read up to its
first 100,000 words and operators. So even a megabyte of hostile command line is read in well
under a second, and a line it cannot read gives None, never an exception.
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field

from graders.match import mounts


@dataclass(frozen=True)
class Writes:
    """What a command line writes."""
    files: tuple[str, ...]   # the targets, absolute and normalised where the line shows them
    unseen: tuple[str, ...]  # commands whose writes it cannot see (a program it does not know)
    stopping: tuple[str, ...] = ()  # those of `files` whose failed write ends the command line


class _Unreadable(ValueError):
    """A command line the shell itself cannot read: an unclosed quote or $(."""


def written_files(container: dict) -> Writes | None:
    """The files a container's command and args write, as far as the command line shows (see
    above); None when a shell could not even read it."""
    container = container if isinstance(container, dict) else {}
    workdir = container.get("workingDir")
    shell = _Shell(cwd=normal_path(workdir) if isinstance(workdir, str) and workdir else None,
                   directories={normal_path(m["mountPath"]) for m in _listed(mounts(container))
                                if isinstance(m, dict) and isinstance(m.get("mountPath"), str)})
    for variable in _listed(container.get("env")):
        variable = variable if isinstance(variable, dict) else {}
        if isinstance(variable.get("name"), str) and isinstance(variable.get("value"), str):  # valueFrom: unknown
            shell.assign(variable["name"], variable["value"])
    argv = [str(word) for word in _listed(container.get("command")) + _listed(container.get("args"))]
    try:
        shell.command(argv)
    except _Unreadable:
        return None
    return Writes(tuple(shell.files), tuple(shell.unseen), tuple(shell.stopping))


def normal_path(path: str) -> str:
    """'/work//site/./index.html' -> '/work/site/index.html'; '/work/' -> '/work'."""
    normal = posixpath.normpath(path) if path else path
    return normal[1:] if normal.startswith("//") else normal


def resolved(path: str) -> bool:
    """Whether a written target is a known place: absolute, no variable, substitution or glob."""
    return path.startswith("/") and not re.search(r"[$`*?\[]", path)


def file_name(path: str) -> str:
    """The last part of a path, a command substitution counted as one part: '/w/$(cat /x)' -> '$(cat /x)'."""
    masked = _SUBSTITUTION.sub(lambda found: "x" * len(found.group()), path)
    return path[masked.rfind("/") + 1:]


def may_be_named(path: str, name: str) -> bool:
    """Whether the file at `path` is called `name`, or may be (a name it cannot resolve: $F, *.html)."""
    last = file_name(path)
    if "$" in last or "`" in last:
        return True
    return fnmatch.fnmatchcase(name, last) if re.search(r"[*?\[]", last) else last == name


def lies_under(path: str, directory: str) -> bool:
    """Whether `path` lies below `directory` ('/work/index.html' under '/work/')."""
    return normal_path(path).startswith(normal_path(directory).rstrip("/") + "/")


_SUBSTITUTION = re.compile(r"\$\([^()]*\)|`[^`]*`")
_WRITING_REDIRECTS = {">", ">>", ">|", ">&", "&>", "&>>", "<>"}
_REDIRECTS = _WRITING_REDIRECTS | {"<", "<&", "<<", "<<-", "<<<"}
_OPERATOR = re.compile("|".join(re.escape(op) for op in sorted(
    _REDIRECTS | {"&&", "||", ";;", ";", "&", "|", "(", ")", "\n"}, key=len, reverse=True)))
_KEYWORDS = {"if", "then", "elif", "else", "fi", "while", "until", "do", "done", "{", "}", "!", "time"}
_PREFIXES = {"busybox", "exec", "command", "nohup"}  # run the command that follows them
_SHELLS = {"sh", "bash", "ash", "dash", "ksh", "zsh"}
_WRITES_NOTHING = {"echo", "printf", "cat", "ls", "sleep", "true", "false", ":", "exit", "return",
                   "unset", "test", "[", "[[", "chmod", "chown", "date", "pwd", "hostname", "uname", "id",
                   "whoami", "grep", "head", "tail", "wc", "sort", "rm", "rmdir", "stat", "sync", "case",
                   "esac", "wait", "kill"}
_BLANKS = re.compile(r"[ \t\r]+")
# a run of a word that needs no closer look to find where the word ends: plain characters, a $
# that opens nothing, an escaped character, quoted parts without $( or ` inside
_PLAIN = re.compile(r"""(?:[^\s'"`\\$&|;()<>]|\$(?![({])|\\[\s\S]|'[^']*'|"[^"\\$`]*"|`[^`\\$]*`)+""")
# a run of a word that stays as written: plain characters, a $ that opens nothing, command
# substitutions without quotes or nesting inside
_LITERAL = re.compile(r"""(?:[^'"`\\$]|\$(?![({\w])|`[^`\\$]*`|\$\([^()'"`\\$]*\))+""")
_SPECIAL = re.compile(r"[\\'\"`$()]")            # what may open or close a quoted part
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|([A-Za-z_]\w*|\d))")
_ASSIGNMENT = re.compile(r"([A-Za-z_]\w*)=(.*)", re.S)
_LONGEST = 4096           # PATH_MAX: a longer variable value or directory names no file
_EXPANSION_ROOM = 2**20   # characters all expansions together may add: $D$D$D... stays fast
_MOST_TOKENS = 100_000    # words and operators read in all; a longer line is read up to there
_DEEPEST = 3              # sh -c inside sh -c inside sh -c: deeper ones are unseen
_FOLLOWED = {"cd": "cd", "mkdir": "mkdir", "export": "export", "tee": "tee", "touch": "touch", "dd": "dd",
             "cp": "copy", "mv": "copy", "install": "copy", "wget": "wget", "curl": "curl", "set": "set_options"}
_END = "end of script"  # the operator after a script's last command


@dataclass
class _Shell:
    """What the reading knows so far: where it is, the variables, the directories it has seen."""
    cwd: str | None
    directories: set[str]
    variables: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)
    stopping: list[str] = field(default_factory=list)
    # whether a failure of the command being read ends the command line; and, for a script,
    # whether the end of the script does (its shell is the line's last command, or before &&)
    fails_out: bool = True
    script_ends_line: bool = True
    errexit: bool = False  # set -e: any failure ends the script
    depth: int = 0
    room: int = _EXPANSION_ROOM
    tokens_left: int = _MOST_TOKENS

    def script(self, text: str) -> None:
        """Run a shell script: simple commands between ; && || | & ( ) and newlines, each
        expanded once the commands before it have run (D=/work; echo > $D/index.html)."""
        read = _tokens(text, most=self.tokens_left)
        self.tokens_left -= len(read)
        words, redirects = [], []
        tokens = iter(read + [("op", _END)])
        for kind, value in tokens:
            if kind == "word":
                words.append(value)
            elif value in _REDIRECTS:
                kind, target = next(tokens, ("op", ""))
                if kind == "word":  # else a syntax error, where the shell stops
                    redirects.append((value, target))
            elif words or redirects:
                self.fails_out = self.script_ends_line and (self.errexit or value in ("&&", _END))
                for operator, target in redirects:
                    target = _expand(target, self.value)
                    descriptor = operator == ">&" and (target.isdigit() or target == "-")  # 2>&1, >&2
                    if operator in _WRITING_REDIRECTS and not descriptor:
                        self.write(target)
                self.simple_command([_expand(word, self.value) for word in words])
                words, redirects = [], []

    def simple_command(self, words: list[str]) -> None:
        start = 0
        while start < len(words) and words[start] in _KEYWORDS:
            start += 1
        words = words[start:]
        assignments = [_ASSIGNMENT.fullmatch(word) for word in words]
        if words and all(assignments):
            for found in assignments:
                self.assign(*found.groups())
        elif words and words[0] == "for" and len(words) > 1:
            self.variables.pop(words[1], None)  # the loop variable: not known
        elif words:
            first = next(i for i, found in enumerate(assignments) if not found)
            self.command(words[first:])  # NAME=value before a command is only its environment

    def command(self, words: list[str]) -> None:
        start = 0
        while start < len(words) and posixpath.basename(words[start]) in _PREFIXES:
            start += 1
        if start == len(words):
            return
        name, args = posixpath.basename(words[start]), words[start + 1:]
        if name in _SHELLS:
            self.shell(name, args)
        elif name in _FOLLOWED:
            getattr(self, _FOLLOWED[name])(args)
        elif name not in _WRITES_NOTHING:
            self.unseen.append(" ".join(words[start:]))

    def value(self, name: str) -> str | None:
        """A variable's value for an expansion, while there is room for it."""
        value = self.variables.get(name)
        if value is None or len(value) > self.room:
            return None
        self.room -= len(value)
        return value

    def assign(self, name: str, value: str) -> None:
        if len(value) <= _LONGEST:  # a longer value is no path, and would only slow the reading
            self.variables[name] = value
        else:
            self.variables.pop(name, None)

    def path(self, word: str) -> str:
        """A target as a normalised path: relative ones against the known directory."""
        if self.cwd and not word.startswith(("/", "$", "`", "~")):
            word = f"{self.cwd}/{word}"
        return normal_path(word)

    def write(self, target: str) -> None:
        path = self.path(target)
        if path and not path.startswith("/dev/"):
            self.files.append(path)
            if self.fails_out:
                self.stopping.append(path)

    def is_directory(self, target: str) -> bool:
        return (target.endswith("/") or posixpath.basename(target) in (".", "..")
                or self.path(target) in self.directories)

    def shell(self, name: str, args: list[str]) -> None:
        """sh [-e -x -o OPTION ...] -c SCRIPT [$0 [$1 ...]]; sh FILE runs a script it cannot see."""
        i, has_script, errexit = 0, False, self.errexit
        while i < len(args) and args[i][:1] in ("-", "+") and args[i] not in ("-", "--"):
            flags = "" if args[i].startswith("--") else args[i][1:]
            has_script |= "c" in flags
            errexit |= args[i].startswith("-") and ("e" in flags or "o" in flags and args[i + 1:i + 2] == ["errexit"])
            i += 2 if "o" in flags else 1
        if not has_script or self.depth == _DEEPEST:
            if args[i:]:
                self.unseen.append(" ".join([name, *args]))
            return
        if i < len(args):  # the script sees its own cd, variables and options, the rest sees them not
            outer = self.cwd, self.variables, self.errexit, self.script_ends_line
            self.variables, self.errexit, self.script_ends_line = dict(self.variables), errexit, self.fails_out
            for number, value in enumerate(args[i + 1:]):
                self.assign(str(number), value)
            self.depth += 1
            self.script(args[i])
            self.depth -= 1
            self.cwd, self.variables, self.errexit, self.script_ends_line = outer

    def cd(self, args: list[str]) -> None:
        operands = _options(args, "")[1]
        if not operands or operands[0] == "-":
            self.cwd = "$OLDPWD" if operands else "$HOME"
        else:
            path = self.path(operands[0])
            self.cwd = path if len(path) <= _LONGEST else None  # cd a; cd a; ... stays fast
        if self.cwd:
            self.directories.add(self.cwd)

    def mkdir(self, args: list[str]) -> None:
        self.directories.update(self.path(operand) for operand in _options(args, "m", {"mode"})[1])

    def set_options(self, args: list[str]) -> None:
        """set -e / set -o errexit (and +e, +o errexit, which undo it)."""
        for i, arg in enumerate(args):
            if arg[:1] in ("-", "+") and ("e" in arg[1:] and not arg.startswith("--")
                                          or "o" in arg[1:] and args[i + 1:i + 2] == ["errexit"]):
                self.errexit = arg.startswith("-")

    def export(self, args: list[str]) -> None:
        for found in filter(None, map(_ASSIGNMENT.fullmatch, args)):
            self.assign(*found.groups())

    def tee(self, args: list[str]) -> None:
        for operand in _options(args, "")[1]:
            if operand != "-":
                self.write(operand)

    def touch(self, args: list[str]) -> None:
        options, operands = _options(args, "drt", {"date", "reference"})
        if "c" not in options:  # -c: do not create
            for operand in operands:
                self.write(operand)

    def dd(self, args: list[str]) -> None:
        for arg in args:
            if arg.startswith("of="):
                self.write(arg.removeprefix("of="))

    def copy(self, args: list[str]) -> None:
        """cp / mv / install SOURCE... DEST; DEST a directory when it looks like one (a trailing /,
        a mount, a directory made or entered earlier) or there are several sources; -t DIR."""
        options, operands = _options(args, "tSmog", {"target-directory", "suffix", "mode", "owner", "group"})
        target = options.get("t") or options.get("target-directory")
        into = target is not None
        if not into:
            if len(operands) < 2:
                return
            *operands, target = operands
            into = "T" not in options and (len(operands) > 1 or self.is_directory(target))
        recursive = any(flag in options for flag in ("r", "R", "a", "recursive", "archive"))
        for source in operands:
            name = posixpath.basename(source.rstrip("/"))
            if name == ".":  # cp -r SRC/. DEST: whatever SRC holds
                self.write(f"{target}/*")
                continue
            dest = f"{target}/{name}" if into else target
            self.write(f"{dest}/*" if recursive and "." not in name else dest)  # a folder's files

    def wget(self, args: list[str]) -> None:
        """wget -O FILE / -qO FILE / --output-document=FILE (-O- is stdout); else the URL's
        name (index.html for a URL ending in /) in -P DIR or the current directory."""
        options, urls = _options(args, "OoPUTYtea", {
            "output-document", "output-file", "append-output", "directory-prefix", "user-agent",
            "header", "tries", "timeout", "post-data", "post-file", "execute"})
        document = options.get("O", options.get("output-document"))
        if document is not None:
            if document != "-":
                self.write(document)
            return
        folder = options.get("P", options.get("directory-prefix"))
        for url in urls:
            self.write(f"{folder}/{_remote_name(url)}" if folder else _remote_name(url))

    def curl(self, args: list[str]) -> None:
        """curl -o FILE / --output FILE (- is stdout); -O / --remote-name: the URL's name."""
        options, urls = _options(args, "oXdHuAeTwxbcKmrEFCYyzUD", {
            "output", "request", "data", "header", "user", "user-agent", "referer", "upload-file",
            "write-out", "proxy", "cookie", "cookie-jar", "config", "max-time", "connect-timeout",
            "retry", "range"})
        output = options.get("o", options.get("output"))
        if output is not None:
            if output != "-":
                self.write(output)
        elif "O" in options or "remote-name" in options:
            for url in urls:
                self.write(_remote_name(url))


def _listed(value) -> list:
    """A list from the container, or none where the container holds something else."""
    return value if isinstance(value, list) else []


def _options(args: list[str], short_with_value: str,
             long_with_value: set[str] = frozenset()) -> tuple[dict[str, str], list[str]]:
    """A command's arguments as getopt reads them: ({option: value, "" for a flag}, operands),
    from bundled flags (-qO-), -o VALUE, -oVALUE, --name=VALUE, --name VALUE and --."""
    options, operands, i = {}, [], 0
    while i < len(args):
        arg, i = args[i], i + 1
        if arg == "--":
            operands += args[i:]
            break
        if arg.startswith("--"):
            name, has_value, value = arg[2:].partition("=")
            if not has_value and name in long_with_value and i < len(args):
                value, i = args[i], i + 1
            options[name] = value
        elif arg.startswith("-") and arg != "-":
            for at, letter in enumerate(arg[1:], 2):
                if letter in short_with_value:
                    value = arg[at:]
                    if not value and i < len(args):
                        value, i = args[i], i + 1
                    options[letter] = value
                    break
                options[letter] = ""
        else:
            operands.append(arg)
    return options, operands


def _remote_name(url: str) -> str:
    """The name wget saves a URL as: 'http://h/a/page.html?x' -> 'page.html', 'http://h/' -> 'index.html'."""
    path = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0].partition("/")[2]
    return path.rsplit("/", 1)[-1] or "index.html"


def _tokens(script: str, most: int) -> list[tuple[str, str]]:
    """A script as ("word", text as written, quotes included) and ("op", operator) tokens;
    comments, line continuations and heredoc bodies left out; the first `most` tokens or so."""
    tokens, heredocs, i = [], [], 0
    begun = None  # where the word being read began

    def end_word() -> None:
        nonlocal begun
        if begun is not None:
            word = script[begun:i].replace("\\\n", "")
            if tokens and tokens[-1] in (("op", "<<"), ("op", "<<-")):  # a heredoc's delimiter
                heredocs.append((_expand(word, {}.get), tokens[-1][1] == "<<-"))
            tokens.append(("word", word))
            begun = None

    while i < len(script) and len(tokens) < most:
        char = script[i]
        if char == "#" and begun is None:  # a comment, to the end of the line
            end = script.find("\n", i)
            i = len(script) if end < 0 else end
        elif script.startswith("\\\n", i) and begun is None:
            i += 2
        elif char in " \t\r":
            end_word()
            i = _BLANKS.match(script, i).end()
        elif operator := _OPERATOR.match(script, i):
            operator = operator.group()
            if operator in _REDIRECTS and begun is not None and script[begun:i].isdigit():
                begun = None  # 2> : the descriptor belongs to the redirect, it is no word
            end_word()
            tokens.append(("op", operator))
            i += len(operator)
            if operator == "\n" and heredocs:
                i, heredocs = _after_heredocs(script, i, heredocs), []
        else:
            begun = i if begun is None else begun
            if plain := _PLAIN.match(script, i):
                i = plain.end()
            elif char in "'\"`" or script.startswith(("$(", "${"), i):
                i = _closing(script, i)
            else:
                i += 2 if char == "\\" else 1
    end_word()
    return tokens


def _closing(script: str, start: int) -> int:
    """Where the quoted part that starts at `start` ends: '...', "...", `...`, $(...), ${...}."""
    if script[start] == "'" or script.startswith("${", start):
        end = script.find("'" if script[start] == "'" else "}", start + 1)
        if end < 0:
            raise _Unreadable(f"unclosed {script[start:start + 2].rstrip('{')}")
        return end + 1
    opened = []  # the closers of the parts still open, innermost last: ) " `
    i = start
    while i < len(script):
        char, inside = script[i], opened[-1] if opened else None
        if char == "\\" and inside:
            i += 2
        elif char == inside:
            opened.pop()
            i += 1
            if not opened:
                return i
        elif script.startswith("$(", i) or (char == "(" and inside == ")"):
            opened.append(")")
            i += 1 if char == "(" else 2
        elif char == "`" or (char == '"' and inside in (None, ")")):
            opened.append(char)
            i += 1
        elif char == "'" and inside == ")":  # quotes inside $( ) are its own
            i = _closing(script, i)
        else:  # jump to the next character that may matter
            found = _SPECIAL.search(script, i + 1)
            i = found.start() if found else len(script)
    raise _Unreadable(f"unclosed {script[start:start + 2] if script[start] == '$' else script[start]}")


def _after_heredocs(script: str, i: int, heredocs: list[tuple[str, bool]]) -> int:
    """Past the bodies of the heredocs opened on the line that ends at `i`."""
    for delimiter, strip_tabs in heredocs:
        while i < len(script):
            end = script.find("\n", i)
            end = len(script) if end < 0 else end
            line, i = script[i:end].rstrip("\r"), end + 1
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                break
    return min(i, len(script))


def _expand(word: str, value_of) -> str:
    """A word as the command receives it: quotes removed, variables expanded where `value_of`
    knows them; unknown variables and command substitutions kept as written."""
    out, i, in_double = [], 0, False
    while i < len(word):
        char = word[i]
        if char == "$" and (variable := _VARIABLE.match(word, i)):
            value = value_of(variable.group(1) or variable.group(2))
            out.append(variable.group() if value is None else value)
            i = variable.end()
        elif literal := _LITERAL.match(word, i):
            out.append(literal.group())
            i = literal.end()
        elif char == "'" and not in_double:
            end = word.find("'", i + 1)
            if end < 0:
                raise _Unreadable("unclosed '")
            out.append(word[i + 1:end])
            i = end + 1
        elif char == '"':
            in_double = not in_double
            i += 1
        elif char == "\\" and i + 1 < len(word):
            escaped = word[i + 1]
            out.append(escaped if not in_double or escaped in '$`"\\' else char + escaped)
            i += 2
        elif word.startswith(("$(", "${"), i) or char == "`":
            end = _closing(word, i)
            out.append(word[i:end])
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)
