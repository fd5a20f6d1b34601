"""`python -m onestop.localinfra up|down|status [--brokers 3 | --kafka-acls] [--keycloak]`: the local Kafka and
PostgreSQL, and Keycloak for staff sign-in when asked (`make run` starts it)."""

import argparse
import base64
import os
import sys

from onestop.localinfra import kafka, kafka_acls, keycloak, postgres
from onestop.localinfra.local_secrets import local_secret, write_private
from onestop.localinfra.paths import env_file

# The Open311 client `make run`'s demo plays; a real site gets a key of its own (`onestop open311-key`).
DEMO_OPEN311_CLIENT = "local-demo"


def local_kek() -> str:
    """This installation's key-encryption key for personal data, made once and kept with its state."""
    return local_secret("personal-data-kek", lambda: base64.b64encode(os.urandom(32)).decode())


def write_env(bootstrap: str, database_url: str, service_database_urls: dict[str, str] | None = None) -> None:
    """The settings every service and test reads, this installation's secrets among them: readable by
    their owner only."""
    service_lines = "".join(
        f"{service.upper()}_DATABASE_URL={url}\n" for service, url in (service_database_urls or {}).items()
    )
    write_private(
        env_file(),
        "# Written by `make infra-up`: the local infrastructure. Environment variables override these.\n"
        f"KAFKA_BOOTSTRAP_SERVERS={bootstrap}\n"
        "# The server's superuser, for tests and benchmarks; each service connects as its own role.\n"
        f"DATABASE_URL={database_url}\n"
        f"{service_lines}"
        f"PERSONAL_DATA_KEK={local_kek()}\n"
        f"ONESTOP_AUTH_SECRET={local_secret('auth-secret')}\n"
        f"INTAKE_OPEN311_API_KEYS={local_secret(f'open311-key-{DEMO_OPEN311_CLIENT}')}:{DEMO_OPEN311_CLIENT}\n"
        f"NOTIFY_WEBHOOK_SECRET={local_secret('notify-webhook-secret')}\n"
        f"NOTIFY_SURVEY_SECRET={local_secret('notify-survey-secret')}\n"
        f"CASES_SEARCH_KEY={local_secret('cases-search-key')}\n"
        f"DESK_SESSION_SECRET={local_secret('desk-session-secret')}\n"
        f"{keycloak.env_lines(keycloak.secrets_of_this_installation())}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onestop.localinfra")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--brokers", type=int, choices=[1, 3], default=1, help="Kafka nodes (3 for fail-over)")
    parser.add_argument(
        "--kafka-acls",
        action="store_true",
        help=f"Kafka with SASL/SCRAM and ACLs on 127.0.0.1:{kafka.ACLS_PORT}, each service signing in as itself",
    )
    parser.add_argument(
        "--keycloak", action="store_true", help=f"also Keycloak, for staff sign-in, on 127.0.0.1:{keycloak.PORT}"
    )
    args = parser.parse_args(argv)

    if args.command == "up":
        database_url = postgres.start()
        service_database_urls = postgres.ensure_service_roles()
        print(f"PostgreSQL ready at {postgres.address()}, a role and a database for each service", flush=True)
        secured = kafka_acls.start_broker(os.environ.get("TOPIC_NAMESPACE", "")) if args.kafka_acls else None
        bootstrap = secured.bootstrap if secured else kafka.start(args.brokers)
        print(f"Kafka ready at {bootstrap}{' with SASL/SCRAM and ACLs' if secured else ''}", flush=True)
        write_env(bootstrap, database_url, service_database_urls)
        if secured:
            with env_file().open("a") as env:
                env.write(kafka_acls.env_settings(secured))
        print(f"settings written to {env_file()}")
        if args.keycloak:
            print(f"Keycloak ready at {keycloak.start().issuer}", flush=True)
    elif args.command == "down":
        kafka.stop()
        kafka.stop_with_acls()
        postgres.stop()
        keycloak.stop()
        env_file().unlink(missing_ok=True)
        print("local Kafka, PostgreSQL and Keycloak stopped")
    else:
        nodes = kafka.running_nodes()
        bootstrap = kafka.bootstrap_servers(nodes) if nodes else ""
        kafka_state = "ready" if nodes and kafka.is_ready(bootstrap, len(nodes)) else "down"
        print(f"kafka: {kafka_state} {bootstrap}")
        print(f"postgres: {'ready' if postgres.is_ready() else 'down'} {postgres.address()}")
        print(f"keycloak: {'ready' if keycloak.is_ready() else 'down'} 127.0.0.1:{keycloak.PORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
