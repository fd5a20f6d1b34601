"""A real Keycloak for staff sign-in: the distribution from Maven Central, run as a plain JVM process on
127.0.0.1:8180 over plain HTTP, with the `onestop` realm imported at every start.

Installing also builds the server (Quarkus' build step, a minute or two), so that each start is only the start.

The realm (deploy/local/keycloak/onestop-realm.json) names its secrets as `${...}` placeholders, which
Keycloak fills from the environment as it imports: the desk's client secret, the demo staff's passwords.
They and the admin's password are made once into .local (see local_secrets), never kept in the repository.
"""

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from onestop.localinfra import processes
from onestop.localinfra.local_secrets import local_secret
from onestop.localinfra.paths import repo_root, state_dir

# The newest release Maven Central serves that still runs on Java 17 (its classes are built for 17).
KEYCLOAK_VERSION = "26.7.3"
# Of keycloak-quarkus-dist-26.7.3.tar.gz, as Maven Central served it (its .sha1 agreed).
KEYCLOAK_SHA256 = "77657f30b7e90d70f727712ce1c967f430fd6a5e9f458d32d8c6df0635345f47"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
HOST = "127.0.0.1"
PORT = 8180
REALM = "onestop"
DESK_CLIENT = "onestop-desk"
DESK_URL = "http://127.0.0.1:8006"
ADMIN = "admin"
HEAP = "-Xms64m -Xmx768m"
# Built in: the realm lives in memory, so every start imports it afresh with this installation's secrets.
BUILD_OPTIONS = ("--db=dev-mem",)
# The demo staff of the realm and the name of each one's password there (KEYCLOAK_DEMO_PASSWORD_<...>).
DEMO_STAFF = ("adviser", "team-leader", "complaints-manager", "analyst", "no-role")


@dataclass(frozen=True)
class Keycloak:
    url: str
    issuer: str
    client_id: str
    client_secret: str
    admin_password: str
    passwords: dict[str, str]  # username: password, for each of the demo staff

    def password_of(self, role: str) -> str:
        return self.passwords[f"demo.{role}"]


def home() -> Path:
    return state_dir() / "keycloak" / f"keycloak-{KEYCLOAK_VERSION}"


def realm_file() -> Path:
    return repo_root() / "deploy" / "local" / "keycloak" / "onestop-realm.json"


def _pid_file() -> Path:
    return state_dir() / "keycloak" / "keycloak.pid"


def _log_file() -> Path:
    return state_dir() / "keycloak" / "keycloak.out"


def ensure_installed() -> Path:
    """Download and unpack the distribution once, checking it is the one expected, and build the server."""
    target = home()
    built = target / "onestop-built"
    if built.exists():
        return target
    if not (target / "bin" / "kc.sh").exists():
        _download(target)
    print(f"building Keycloak {KEYCLOAK_VERSION} for local use ...", flush=True)
    subprocess.run([str(target / "bin" / "kc.sh"), "build", *BUILD_OPTIONS], check=True, capture_output=True)
    built.write_text(" ".join(BUILD_OPTIONS))
    return target


def _download(target: Path) -> None:
    if shutil.which("java") is None:
        raise RuntimeError("Java 17+ is needed to run the local Keycloak")
    name = f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.tar.gz"
    url = f"{MAVEN_CENTRAL}/org/keycloak/keycloak-quarkus-dist/{KEYCLOAK_VERSION}/{name}"
    archive = target.parent / name
    archive.parent.mkdir(parents=True, exist_ok=True)
    print(f"downloading Keycloak {KEYCLOAK_VERSION} from Maven Central ...", flush=True)
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as answer, archive.open("wb") as file:
        while chunk := answer.read(1 << 20):
            digest.update(chunk)
            file.write(chunk)
    if digest.hexdigest() != KEYCLOAK_SHA256:
        archive.unlink()
        raise RuntimeError(f"{name} from Maven Central is not the expected file (SHA-256 {digest.hexdigest()})")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(partial, filter="data")
    (partial / f"keycloak-{KEYCLOAK_VERSION}").rename(target)
    partial.rmdir()
    archive.unlink()


def secrets_of_this_installation(desk_url: str = DESK_URL) -> Keycloak:
    """The local Keycloak's address and this installation's secrets for it (made once, kept in .local)."""
    return Keycloak(
        url=f"http://{HOST}:{PORT}",
        issuer=f"http://{HOST}:{PORT}/realms/{REALM}",
        client_id=DESK_CLIENT,
        client_secret=local_secret("desk-oidc-client-secret"),
        admin_password=local_secret("keycloak-admin-password"),
        passwords={f"demo.{who}": local_secret(f"keycloak-demo-password-{who}") for who in DEMO_STAFF},
    )


def is_ready(keycloak: Keycloak | None = None, timeout: float = 2.0) -> bool:
    """The realm's discovery document answers (so the realm has been imported)."""
    issuer = (keycloak or secrets_of_this_installation()).issuer
    try:
        with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=timeout) as answer:
            return answer.status == 200 and bool(json.load(answer).get("issuer") == issuer)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def start(timeout: float = 180.0, desk_url: str = DESK_URL) -> Keycloak:
    """Start Keycloak unless it already runs, and wait until the realm answers. `desk_url` is where the
    desk is opened: the realm lets the provider send browsers back there only."""
    keycloak = secrets_of_this_installation(desk_url)
    if is_ready(keycloak):
        return keycloak
    lock_file = state_dir() / "keycloak" / "start.lock"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as lock:
        # One start at a time: whoever comes second (another test run, `make run`) finds it starting and waits.
        fcntl.flock(lock, fcntl.LOCK_EX)
        pid = processes.read_pid(_pid_file())
        if pid is not None and processes.pid_alive(pid):
            if processes.wait_until(lambda: is_ready(keycloak), timeout, interval=1.0):
                return keycloak
            stop()  # running but never answering: start afresh
        _start(keycloak, desk_url, timeout)
    return keycloak


def _start(keycloak: Keycloak, desk_url: str, timeout: float) -> None:
    install = ensure_installed()
    imports = install / "data" / "import"
    imports.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(realm_file(), imports / realm_file().name)
    env = {
        **os.environ,
        "JAVA_OPTS_KC_HEAP": HEAP,
        "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN,
        "KC_BOOTSTRAP_ADMIN_PASSWORD": keycloak.admin_password,
        "DESK_OIDC_CLIENT_SECRET": keycloak.client_secret,
        "DESK_PUBLIC_BASE_URL": desk_url.rstrip("/"),
        **{f"KEYCLOAK_DEMO_PASSWORD_{who.replace('-', '_').upper()}": keycloak.password_of(who) for who in DEMO_STAFF},
    }
    _log_file().unlink(missing_ok=True)
    processes.spawn(
        [
            str(install / "bin" / "kc.sh"),
            "start",
            "--optimized",
            # Plain HTTP on the loopback address only, for a desk on this machine.
            "--http-enabled=true",
            "--hostname-strict=false",
            f"--http-host={HOST}",
            f"--http-port={PORT}",
            "--import-realm",
            "--cache=local",
        ],
        _log_file(),
        _pid_file(),
        env=env,
    )
    if not processes.wait_until(lambda: is_ready(keycloak), timeout, interval=1.0):
        log = _tail(_log_file())
        stop()
        raise RuntimeError(f"Keycloak was not ready within {timeout:.0f}s:\n{log}")


def stop() -> bool:
    """Stop Keycloak and whatever its start script began (it runs in a process group of its own)."""
    pid = processes.read_pid(_pid_file())
    if pid is not None and processes.pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if not processes.wait_until(lambda: not processes.pid_alive(pid), 30):
            os.killpg(pid, signal.SIGKILL)
            processes.wait_until(lambda: not processes.pid_alive(pid), 10)
    _pid_file().unlink(missing_ok=True)
    return pid is not None


def env_lines(keycloak: Keycloak) -> str:
    """The desk's settings for this provider, for .env."""
    return f"DESK_OIDC_ISSUER={keycloak.issuer}\nDESK_OIDC_CLIENT_SECRET={keycloak.client_secret}\n"


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
