"""Check that POSIX-only calls stay where Windows never runs them (DESIGN.md, "Platforms").

Linux is production, but everything except pmdaemon must run on Windows for development. So in
every workspace member's src/ tree but vendor/pmdaemon (POSIX by nature: supervisord), each of
these must sit behind a platform guard:

- importing a module Windows lacks: fcntl, resource, pwd, grp, termios, tty, pty, posix, syslog,
  crypt, spwd, nis;
- `os.` calls and constants Windows lacks: fork, setsid, killpg, getuid, sysconf, chown, ...;
- `signal.` names Windows lacks: SIGKILL, SIGHUP, SIGUSR1/2, SIGCHLD, SIGALRM, alarm, ...
  (`getattr(signal, "SIGHUP", None)` is the portable spelling and passes);
- a path string that starts with /proc.

A guard is an `if` (or conditional expression, or an `and` after the test) whose test reads
the platform: `sys.platform`, `os.name`, `platform.system()`, `hasattr(...)`, or a name that says
so (`IS_WINDOWS`, `posix`, a `platform` parameter); both its branches count as guarded, since
either is the platform-aware one. A `try` whose handlers catch ImportError, ModuleNotFoundError,
AttributeError or NotImplementedError guards its body; one that catches OSError (or
FileNotFoundError) guards the /proc paths in it, since reading a path that is not there fails
alike everywhere. `from os import fork` is checked like
`os.fork`, and aliases (`import signal as sig`) are followed.

Exit 1 with one line per unguarded use (file:line:col: what, and why it matters), run by the
lint job (scripts/test.sh):

    uv run --all-packages --group dev python scripts/check_posix.py
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workspace import ROOT, members, report


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


POSIX_MODULES = _words("fcntl resource pwd grp termios tty pty posix syslog crypt spwd nis")
POSIX_NAMES = {
    "os": _words(
        """
        fork forkpty register_at_fork setsid getsid setpgid setpgrp getpgid getpgrp killpg getuid geteuid
        getgid getegid setuid setgid seteuid setegid setreuid setregid getgroups setgroups initgroups
        getresuid getresgid chown lchown fchown chroot sysconf sysconf_names pathconf fpathconf confstr
        getloadavg nice getpriority setpriority mkfifo mknod openpty wait3 wait4 WNOHANG WUNTRACED uname
        statvfs fstatvfs sync pipe2 posix_spawn posix_spawnp sched_getaffinity sched_setaffinity ttyname
        ctermid getlogin_r
        """
    ),
    "signal": _words(
        """
        SIGKILL SIGHUP SIGUSR1 SIGUSR2 SIGCHLD SIGALRM SIGQUIT SIGPIPE SIGSTOP SIGCONT SIGTSTP SIGTTIN
        SIGTTOU SIGWINCH SIGPROF SIGVTALRM SIGXCPU SIGXFSZ SIGIO SIGPOLL SIGSYS SIGTRAP SIGURG alarm
        setitimer getitimer pause sigwait sigwaitinfo sigtimedwait sigpending pthread_kill pthread_sigmask
        siginterrupt ITIMER_REAL ITIMER_VIRTUAL ITIMER_PROF
        """
    ),
}
GUARD_EXCEPTIONS = frozenset({"ImportError", "ModuleNotFoundError", "AttributeError", "NotImplementedError"})
PATH_EXCEPTIONS = frozenset({"OSError", "FileNotFoundError", "IOError"})
GUARD_WORDS = ("platform", "windows", "posix", "win32", "darwin", "linux")
EXEMPT = ("vendor/pmdaemon",)  # POSIX by nature (DESIGN.md, "Platforms")


@dataclass(frozen=True, slots=True)
class Finding:
    line: int
    col: int
    what: str

    def text(self, path: str) -> str:
        return f"{path}:{self.line}:{self.col + 1}: {self.what}"


def _names(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            yield sub.id
        elif isinstance(sub, ast.Attribute):
            yield sub.attr
            if isinstance(sub.value, ast.Name):
                yield f"{sub.value.id}.{sub.attr}"


def is_platform_test(test: ast.AST) -> bool:
    """Whether an expression reads the platform (sys.platform, os.name, hasattr(...), IS_WINDOWS...)."""
    for sub in ast.walk(test):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == "hasattr":
            return True
    for name in _names(test):
        if name in ("sys.platform", "os.name", "system") or any(word in name.lower() for word in GUARD_WORDS):
            return True
    return False


def _catches(handler: ast.ExceptHandler, names: frozenset[str]) -> bool:
    caught = handler.type
    if caught is None:
        return False
    kinds = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(isinstance(k, ast.Name) and k.id in names for k in kinds)


class Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.aliases: dict[str, str] = {}  # local name -> the module it is (os, signal)
        self.guarded = 0
        self.paths_guarded = 0  # inside a try that catches OSError: a missing /proc is handled

    def _guarded(self, *nodes: ast.AST) -> None:
        self.guarded += 1
        for node in nodes:
            self.visit(node)
        self.guarded -= 1

    def _report(self, node: ast.expr | ast.stmt, what: str) -> None:
        if not self.guarded:
            self.findings.append(Finding(node.lineno, node.col_offset, what))

    # guards

    def visit_If(self, node: ast.If) -> None:
        if is_platform_test(node.test):
            self._guarded(node.test, *node.body, *node.orelse)
        else:
            self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        if is_platform_test(node.test):
            self._guarded(node.test, node.body, node.orelse)
        else:
            self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for index, value in enumerate(node.values):
            if isinstance(node.op, ast.And) and is_platform_test(value):
                self._guarded(*node.values[index:])
                return
            self.visit(value)

    def visit_Try(self, node: ast.Try) -> None:
        if any(_catches(h, GUARD_EXCEPTIONS) for h in node.handlers):
            self._guarded(*node.body)
        elif any(_catches(h, PATH_EXCEPTIONS) for h in node.handlers):
            self.paths_guarded += 1
            for statement in node.body:
                self.visit(statement)
            self.paths_guarded -= 1
        else:
            for statement in node.body:
                self.visit(statement)
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    # uses

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top in POSIX_MODULES:
                self._report(node, f"import {alias.name}: no such module on Windows")
            if alias.name in POSIX_NAMES:
                self.aliases[alias.asname or alias.name] = alias.name

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and module.split(".")[0] in POSIX_MODULES:
            self._report(node, f"from {module} import ...: no such module on Windows")
        for alias in node.names:
            if alias.name in POSIX_NAMES.get(module, ()):
                self._report(node, f"from {module} import {alias.name}: not on Windows")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name):
            module = self.aliases.get(node.value.id, node.value.id if node.value.id in POSIX_NAMES else None)
            if module is not None and node.attr in POSIX_NAMES[module]:
                self._report(node, f"{module}.{node.attr}: not on Windows")
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.generic_visit(node)  # a docstring is prose, not a path

    def visit_Constant(self, node: ast.Constant) -> None:
        is_proc = isinstance(node.value, str) and (node.value == "/proc" or node.value.startswith("/proc/"))
        if is_proc and not self.paths_guarded:
            self._report(node, f"{node.value!r}: /proc is Linux's")


def scan_source(text: str, name: str = "<source>") -> list[Finding]:
    scanner = Scanner()
    scanner.visit(ast.parse(text, filename=name))
    return scanner.findings


def sources(base: Path) -> Iterator[Path]:
    for member in members(base):
        if member.relative_to(base).as_posix() in EXEMPT:
            continue
        yield from sorted((member / "src").rglob("*.py"))


def check(base: Path = ROOT) -> list[str]:
    problems = []
    for path in sources(base):
        rel = path.relative_to(base).as_posix()
        problems += [f.text(rel) for f in scan_source(path.read_text(encoding="utf-8"), rel)]
    return problems


if __name__ == "__main__":
    sys.exit(report(check(), "POSIX-only calls: every one is in vendor/pmdaemon or behind a platform guard"))
