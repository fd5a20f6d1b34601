"""`python -m onestop.localinfra up|down|status [--brokers 3]`: the local Kafka and PostgreSQL."""

import argparse
import base64
import os
import sys

from onestop.localinfra import kafka, postgres
from onestop.localinfra.paths import env_file, state_dir


def local_kek() -> str:
    """This installation's key-encryption key for personal data, made once and kept with its state."""
    path = state_dir() / "personal-data-kek"
    if not path.exists():
        path.write_text(base64.b64encode(os.urandom(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def write_env(bootstrap: str, database_url: str) -> None:
    env_file().write_text(
        "# Written by `make infra-up`: the local infrastructure. Environment variables override these.\n"
        f"KAFKA_BOOTSTRAP_SERVERS={bootstrap}\n"
        f"DATABASE_URL={database_url}\n"
        f"PERSONAL_DATA_KEK={local_kek()}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onestop.localinfra")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--brokers", type=int, choices=[1, 3], default=1, help="Kafka nodes (3 for fail-over)")
    args = parser.parse_args(argv)

    if args.command == "up":
        database_url = postgres.start()
        print(f"PostgreSQL ready at {database_url}", flush=True)
        bootstrap = kafka.start(args.brokers)
        print(f"Kafka ready at {bootstrap}", flush=True)
        write_env(bootstrap, database_url)
        print(f"settings written to {env_file()}")
    elif args.command == "down":
        kafka.stop()
        postgres.stop()
        env_file().unlink(missing_ok=True)
        print("local Kafka and PostgreSQL stopped")
    else:
        nodes = kafka.running_nodes()
        bootstrap = kafka.bootstrap_servers(nodes) if nodes else ""
        kafka_state = "ready" if nodes and kafka.is_ready(bootstrap, len(nodes)) else "down"
        print(f"kafka: {kafka_state} {bootstrap}")
        print(f"postgres: {'ready' if postgres.is_ready() else 'down'} {postgres.dsn()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
