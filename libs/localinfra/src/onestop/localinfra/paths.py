"""Where the repository, its local state and its settings file are."""

import os
from pathlib import Path


def repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "deploy" / "local").is_dir() and (parent / "libs").is_dir():
            return parent
    raise RuntimeError(f"cannot find the onestop repository above {here}")


def state_dir() -> Path:
    """Kafka log dirs, PostgreSQL data and pid files; git-ignored."""
    configured = os.environ.get("ONESTOP_STATE_DIR")
    path = Path(configured) if configured else repo_root() / ".local"
    path.mkdir(parents=True, exist_ok=True)
    return path


def env_file() -> Path:
    """Where `make infra-up` writes its settings (secrets among them) for the services to read from their
    working directory; ONESTOP_ENV_FILE puts them elsewhere, to try an installation beside another."""
    configured = os.environ.get("ONESTOP_ENV_FILE")
    return Path(configured) if configured else repo_root() / ".env"
