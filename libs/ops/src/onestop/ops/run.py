"""`make run`: the whole system on one machine, with demo data, and where to look.

Starts, as separate supervised processes: the local trace viewer, the five services, the desk (staff sign
in to it through the local Keycloak, started first with its demo staff), Mailpit (a mail catcher: the mail
notify sends, on a web page), the demo back-office system and the demo traffic. Ctrl-C stops them all but
Keycloak, which `make infra-down` stops.
"""

import importlib.util
import os
import sys

from onestop.localinfra import keycloak, mailpit
from onestop.localinfra.local_secrets import local_secret
from onestop.localinfra.supervisor import Program, supervise

SERVICES = {"intake": 8001, "routing": 8002, "cases": 8003, "notify": 8004, "analytics": 8005}
DESK = "http://127.0.0.1:8006"
TRACE_VIEWER = "http://127.0.0.1:4318"
MAIL_SMTP_PORT = 1025  # notify's default NOTIFY_SMTP_PORT
MAIL_VIEWER_PORT = 8025


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def programs() -> list[Program]:
    python = sys.executable
    found = [Program("traces", [python, "-m", "onestop.ops.traces"])]
    for service in SERVICES:
        if _module_exists(f"onestop.{service}.__main__"):
            found.append(Program(service, [python, "-m", f"onestop.{service}"]))
    if _module_exists("onestop.desk.__main__"):
        found.append(Program("desk", [python, "-m", "onestop.desk"]))
    if mailpit.binary().exists():  # `make install` builds it
        found.append(Program("mail", mailpit.command(MAIL_SMTP_PORT, MAIL_VIEWER_PORT)))
    demo = [
        ("back-office", "onestop.ops.demo.back_office"),
        ("traffic", "onestop.ops.demo.traffic"),
    ]
    for name, module in demo:
        if _module_exists(module):
            found.append(Program(name, [python, "-m", module]))
    return found


def banner(running: list[Program]) -> str:
    names = {program.name for program in running}
    lines = ["", "onestop is starting. Where to look:"]
    for service, port in SERVICES.items():
        if service in names:
            lines.append(f"  {service:<10} http://127.0.0.1:{port}   (API docs: http://127.0.0.1:{port}/docs)")
    if "analytics" in names:
        lines.append(f"  dashboard  http://127.0.0.1:{SERVICES['analytics']}/dashboard")
    if "intake" in names:
        lines.append(f"  Open311    http://127.0.0.1:{SERVICES['intake']}/open311/v2/services.json")
    if "cases" in names:
        lines.append(f"  tracking   http://127.0.0.1:{SERVICES['cases']}/track/<reference>")
    if "desk" in names:
        provider = keycloak.secrets_of_this_installation()
        lines.append(f"  desk       {DESK}   (the staff desk)")
        lines.append(f"             sign in as demo.adviser, password {provider.password_of('adviser')}")
        lines.append(f"  Keycloak   {provider.url}/admin   (admin, password {provider.admin_password})")
    if "mail" in names:
        lines.append(f"  sent mail  http://127.0.0.1:{MAIL_VIEWER_PORT}   (Mailpit)")
    lines.append(f"  traces     {TRACE_VIEWER}")
    lines.append("  operations `uv run onestop status`, `uv run onestop dlq list --group cases`")
    lines.append("Ctrl-C stops everything.")
    return "\n".join(lines) + "\n"


def main() -> int:
    import asyncio

    os.environ.setdefault("OTEL_EXPORTER_OTLP_ENDPOINT", TRACE_VIEWER)
    os.environ.setdefault("OTEL_TRACES_SAMPLE_RATIO", "1")  # the demo shows every journey
    os.environ.setdefault("OTEL_SQL_SPANS", "true")  # down to each SQL statement
    running = programs()
    if any(program.name == "desk" for program in running):
        print("starting Keycloak for staff sign-in ...", flush=True)
        provider = keycloak.start(desk_url=DESK)
        os.environ.setdefault("DESK_OIDC_ISSUER", provider.issuer)
        os.environ.setdefault("DESK_OIDC_CLIENT_SECRET", provider.client_secret)
        os.environ.setdefault("DESK_SESSION_SECRET", local_secret("desk-session-secret"))
    print(banner(running), flush=True)
    asyncio.run(supervise(running))
    return 0


if __name__ == "__main__":
    sys.exit(main())
