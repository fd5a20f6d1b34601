"""dockerfile-lint, which checks deploy/Dockerfile with BuildKit's rules (those of `docker build --check`):
`make install` builds the small Go program in deploy/dockerfile-lint into .local/bin, its modules from the Go
module proxy, and builds it again whenever its sources change.
"""

import hashlib
import os
import subprocess
from pathlib import Path

from onestop.localinfra.helm import go_command
from onestop.localinfra.paths import repo_root

SOURCES = ("main.go", "go.mod", "go.sum")


def binary() -> Path:
    return repo_root() / ".local" / "bin" / "dockerfile-lint"


def _sources_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (directory / name).read_bytes())
    return digest.hexdigest()


def ensure_installed() -> Path:
    """Build dockerfile-lint into .local/bin unless the one there was built from the same sources."""
    target, sources = binary(), repo_root() / "deploy" / "dockerfile-lint"
    stamp, wanted = target.with_name("dockerfile-lint.sources"), _sources_digest(sources)
    if target.exists() and stamp.exists() and stamp.read_text() == wanted:
        return target
    go = go_command()
    print("building dockerfile-lint (BuildKit's Dockerfile linter, from the Go module proxy) ...", flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    arriving = target.with_name("dockerfile-lint.new")
    subprocess.run(
        [go, "build", "-mod=readonly", "-ldflags", "-s -w", "-o", str(arriving), "."],
        cwd=sources,
        env={**os.environ, "CGO_ENABLED": "0"},
        check=True,
    )
    arriving.replace(target)
    stamp.write_text(wanted)
    return target
