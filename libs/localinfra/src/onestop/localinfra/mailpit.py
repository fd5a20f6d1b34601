"""Mailpit, a mail catcher: an SMTP server that keeps every message it receives, with a web view and an API
to read them. `make run` shows the demo's mail in it, and tests of what a customer receives read it.

`make install` builds it once into .local/bin: the Go program from the Go module proxy, with its web view
built by npm from the same release's sources (the Go module alone ships the view without its scripts).
It keeps every message (`--max 0`; its default drops all but the newest 500) and accepts any SMTP login
or none, so any notify settings work against it.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from onestop.localinfra import processes
from onestop.localinfra.paths import repo_root, state_dir

MAILPIT_MODULE = "github.com/axllent/mailpit"
MAILPIT_VERSION = "v1.27.11"
GO_FALLBACK = Path("/usr/local/go/bin/go")  # where Go's own installer puts it, often not on PATH


def binary() -> Path:
    return repo_root() / ".local" / "bin" / "mailpit"


def installed_version(path: Path) -> str | None:
    try:
        answer = subprocess.run(
            [str(path), "version", "--no-release-check"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    # "<path> v1.27.11 compiled with go1.26.8 on linux/amd64"
    words = answer.stdout.removeprefix(str(path)).split()
    return words[0] if words else None


def _tool(name: str, fallback: Path | None = None) -> str:
    found = shutil.which(name) or (str(fallback) if fallback is not None and fallback.exists() else None)
    if found is None:
        raise RuntimeError(f"{name} is needed to build Mailpit {MAILPIT_VERSION} (Go 1.24+ and Node.js with npm)")
    return found


def ensure_installed() -> Path:
    """Build Mailpit into .local/bin unless the version there is already the one wanted."""
    target = binary()
    if target.exists() and installed_version(target) == MAILPIT_VERSION:
        return target
    go, npm = _tool("go", GO_FALLBACK), _tool("npm")
    print(f"building Mailpit {MAILPIT_VERSION} (Go module proxy and npm) ...", flush=True)
    download = subprocess.run(
        [go, "mod", "download", "-json", f"{MAILPIT_MODULE}@{MAILPIT_VERSION}"], stdout=subprocess.PIPE, text=True
    )
    module = json.loads(download.stdout or "{}")
    if download.returncode or "Dir" not in module:
        raise RuntimeError(f"cannot download {MAILPIT_MODULE}@{MAILPIT_VERSION}: {module.get('Error', '')}")
    sources = Path(module["Dir"])
    with tempfile.TemporaryDirectory(prefix="mailpit-build-") as scratch:
        build = Path(scratch) / "mailpit"
        # The module cache is read-only; the build writes node_modules and the web view's bundle beside it.
        shutil.copytree(sources, build, copy_function=shutil.copyfile)
        for directory, _, _ in os.walk(build):
            Path(directory).chmod(0o755)
        quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run([npm, "ci", "--ignore-scripts", *quiet], cwd=build, check=True)
        subprocess.run([npm, "run", "package", "--silent"], cwd=build, check=True)
        version_flag = f"-X {MAILPIT_MODULE}/config.Version={MAILPIT_VERSION}"
        built = Path(scratch) / "mailpit-binary"
        subprocess.run([go, "build", "-ldflags", f"-s -w {version_flag}", "-o", str(built), "."], cwd=build, check=True)
        # Moved in whole, so there is never half a binary, even beside a Mailpit running the old one.
        target.parent.mkdir(parents=True, exist_ok=True)
        arriving = target.with_name("mailpit.new")
        shutil.copyfile(built, arriving)
        arriving.chmod(0o755)
        arriving.replace(target)
    return target


def command(
    smtp_port: int, http_port: int, database: Path | None = None, allowed_recipients: str | None = None
) -> list[str]:
    """The command line of a Mailpit on 127.0.0.1. `allowed_recipients` (a Go regular expression) makes it
    refuse mail to any other address, as a real server refuses a mailbox that does not exist."""
    path = binary()
    if not path.exists():
        raise RuntimeError(f"Mailpit is not installed at {path}: run `make install`")
    args = [
        str(path),
        f"--smtp=127.0.0.1:{smtp_port}",
        f"--listen=127.0.0.1:{http_port}",
        "--max=0",  # keep every message
        "--smtp-auth-accept-any",
        "--smtp-auth-allow-insecure",  # a login over plain SMTP, as a development setting may use
        "--smtp-disable-rdns",  # no DNS lookups of 127.0.0.1 on each connection
        "--disable-version-check",
        "--quiet",  # its info lines name each message's recipient
    ]
    if database is not None:
        args.append(f"--database={database}")
    if allowed_recipients is not None:
        args.append(f"--smtp-allowed-recipients={allowed_recipients}")
    return args


@dataclass(frozen=True)
class Mailpit:
    smtp_port: int
    http_port: int
    directory: Path

    @property
    def url(self) -> str:
        """The web view; its API is under /api/v1."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid_file(self) -> Path:
        return self.directory / "mailpit.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / "mailpit.log"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_ready(mailpit: Mailpit) -> bool:
    try:
        with urllib.request.urlopen(f"{mailpit.url}/readyz", timeout=2) as answer:
            if answer.status != 200:
                return False
        with socket.create_connection(("127.0.0.1", mailpit.smtp_port), timeout=2):
            return True
    except (OSError, urllib.error.URLError):
        return False


def start(allowed_recipients: str | None = None, timeout: float = 30.0) -> Mailpit:
    """A Mailpit of the caller's own on free ports, with its mail in a directory of its own; `stop` ends it."""
    directory = state_dir() / "mailpit" / uuid.uuid4().hex[:10]
    directory.mkdir(parents=True)
    mailpit = Mailpit(free_port(), free_port(), directory)
    args = command(mailpit.smtp_port, mailpit.http_port, directory / "mail.db", allowed_recipients)
    processes.spawn(args, mailpit.log_file, mailpit.pid_file)

    def settled() -> bool:
        return is_ready(mailpit) or processes.read_pid(mailpit.pid_file) is None

    if not processes.wait_until(settled, timeout) or not is_ready(mailpit):
        log = mailpit.log_file.read_text(errors="replace")[-2000:]
        stop(mailpit)
        raise RuntimeError(f"Mailpit on SMTP {mailpit.smtp_port} / HTTP {mailpit.http_port} did not start:\n{log}")
    return mailpit


def stop(mailpit: Mailpit) -> None:
    processes.stop(mailpit.pid_file, timeout=10)
    shutil.rmtree(mailpit.directory, ignore_errors=True)
