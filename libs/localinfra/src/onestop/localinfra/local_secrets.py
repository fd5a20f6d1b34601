"""This installation's secrets: made once, kept with its local state, readable by their owner only."""

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from onestop.localinfra.paths import state_dir


def random_secret() -> str:
    """256 random bits, in characters that need no quoting in a URL or a `.env` line."""
    return secrets.token_urlsafe(32)


def local_secret(name: str, make: Callable[[], str] = random_secret) -> str:
    """The secret `name` of this installation, made once with `make` and kept in the state dir."""
    path = state_dir() / name
    if not path.exists():
        write_private(path, make())
    return path.read_text().strip()


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` so that only its owner can ever read it, not even for a moment: the file is
    made with mode 0600 beside `path` (before anything is written to it), then renamed over it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)  # left by an interrupted write
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
