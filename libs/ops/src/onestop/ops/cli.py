"""`onestop`: the operations command line.

onestop status                      health of every service, consumer lag per group
onestop dlq list [--group cases]    what is in the dead-letter topics, and why
onestop dlq redrive --group cases   send dead letters back to their original topic
onestop rebuild cases               rebuild a service's views from the log (any of the five)
onestop erase-customer ID --basis   erase a customer (their personal data becomes unreadable)
onestop erase-customer --contact ID --basis   erase someone never identified, by a contact of theirs
onestop token --scope cases:read    a token for the APIs, signed with ONESTOP_AUTH_SECRET
onestop open311-key fixmystreet     a new Open311 API key for a reporting site
onestop rotate-personal-data-kek    wrap every customer's key again with PERSONAL_DATA_KEK (see docs/operations.md)
"""

import asyncio
import json
import secrets
import subprocess
import sys
from datetime import timedelta
from typing import Annotated
from uuid import UUID

import httpx
import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]
from pydantic import ValidationError

from onestop.contracts import topics as contract_topics
from onestop.servicekit.auth import AuthSettings, mint_token
from onestop.servicekit.consumer_lag import by_group, group_lags
from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.startup import setting_problems

SERVICES = {"intake": 8001, "routing": 8002, "cases": 8003, "notify": 8004, "analytics": 8005}

app = typer.Typer(help="Operate onestop.", no_args_is_help=True)
dlq_app = typer.Typer(help="Inspect and re-drive dead letters.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


def _settings() -> ServiceSettings:
    try:
        return ServiceSettings(service_name="ops")
    except ValidationError as exc:
        typer.echo("onestop: " + "; ".join(setting_problems(exc, ServiceSettings)), err=True)
        raise typer.Exit(2) from None


@app.command()
def status(host: str = "127.0.0.1") -> None:
    """Health of every service and the lag of every consumer group."""
    for service, port in SERVICES.items():
        try:
            answer = httpx.get(f"http://{host}:{port}/health", timeout=3)
            state = answer.json().get("status", answer.status_code)
        except httpx.HTTPError as exc:
            state = f"unreachable ({type(exc).__name__})"
        typer.echo(f"{service:<10} {state}")
    typer.echo("")
    for group, lag in by_group(asyncio.run(group_lags(_settings().kafka_bootstrap_servers))).items():
        typer.echo(f"{group:<40} lag {lag}")


def _dlq_topic(group: str, namespace: str) -> str:
    return contract_topics.dead_letter_topic(group).qualified(namespace)


async def read_dead_letters(bootstrap: str, topic: str) -> list[object]:
    consumer, partitions = await open_from_beginning(bootstrap, [topic])
    try:
        records: list[object] = []
        async for batch in batches_to_end(consumer, partitions):
            records.extend(batch)
        return records
    finally:
        await consumer.stop()


@dlq_app.command("list")
def dlq_list(group: Annotated[str, typer.Option(help="consumer group, e.g. cases")]) -> None:
    """Every dead letter of a consumer group with its reason and origin."""
    settings = _settings()
    records = asyncio.run(
        read_dead_letters(settings.kafka_bootstrap_servers, _dlq_topic(group, settings.topic_namespace))
    )
    for record in records:
        headers = {k: v.decode(errors="replace") for k, v in record.headers}  # type: ignore[attr-defined]
        typer.echo(
            f"{record.offset:>6}  {headers.get('dlq_original_topic')}[{headers.get('dlq_original_partition')}]"  # type: ignore[attr-defined]
            f"@{headers.get('dlq_original_offset')}  {headers.get('ce_type', '?')}  {headers.get('dlq_reason')}"
        )
    typer.echo(f"{len(records)} dead letters")


@dlq_app.command("redrive")
def dlq_redrive(group: Annotated[str, typer.Option(help="consumer group, e.g. cases")]) -> None:
    """Send every dead letter back to its original topic (after the cause is fixed)."""
    settings = _settings()
    count = asyncio.run(redrive(settings.kafka_bootstrap_servers, _dlq_topic(group, settings.topic_namespace)))
    typer.echo(f"re-drove {count} messages")


async def redrive(bootstrap: str, dlq_topic: str) -> int:
    """Republish dead letters without their dlq_* headers; a redrive group remembers how far it got."""
    consumer = AIOKafkaConsumer(
        dlq_topic,
        bootstrap_servers=bootstrap,
        group_id=f"{dlq_topic}.redrive",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **kafka_options(),
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **kafka_options())
    await consumer.start()
    await producer.start()
    sent = 0
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=2000)
            if not batches:
                return sent
            for records in batches.values():
                for record in records:
                    headers = [(k, v) for k, v in record.headers if not k.startswith("dlq_")]
                    original = dict(record.headers)[contract_topics.DLQ_ORIGINAL_TOPIC].decode()
                    await producer.send_and_wait(original, value=record.value, key=record.key, headers=headers)
                    sent += 1
            await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


@app.command()
def rebuild(service: str) -> None:
    """Rebuild a service's projections from the log (`python -m onestop.<service> rebuild`)."""
    if service not in SERVICES:
        raise typer.BadParameter(f"choose one of {', '.join(SERVICES)}")
    raise typer.Exit(subprocess.call([sys.executable, "-m", f"onestop.{service}", "rebuild"]))


@app.command("erase-customer")
def erase_customer(
    basis: Annotated[str, typer.Option(help="the legal basis, e.g. 'UK GDPR Art. 17 request ref 123'")],
    customer_id: Annotated[UUID | None, typer.Argument(help="the customer")] = None,
    contact: Annotated[UUID | None, typer.Option(help="or: a contact of a person never identified")] = None,
) -> None:
    """Shred every key of the person (their record, records merged into it, contacts of theirs sealed before
    they were identified) and publish their erasure; every service drops their personal data."""
    from onestop.ops.subject_access import UnknownContact, erase

    if (customer_id is None) == (contact is None):
        raise typer.BadParameter("name the customer, or (for someone never identified) --contact")
    settings = _settings()
    try:
        erasure = asyncio.run(
            erase(
                settings.kafka_bootstrap_servers,
                settings.topic_namespace,
                settings.personal_data_kek,
                basis,
                customer_id=customer_id,
                contact_id=contact,
            )
        )
    except UnknownContact as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"erasure of {erasure.person} published as events {', '.join(map(str, erasure.published))}")
    for subject in erasure.shredded:
        typer.echo(f"  key of {subject} shredded")
    for subject in erasure.already_erased:
        typer.echo(f"  key of {subject} was shredded before")
    if not erasure.anything_sealed:
        typer.echo(
            f"nothing of {erasure.person} was ever sealed here (no key on the key topic of this installation):"
            " whatever the log holds of them could not be shredded; check the id and TOPIC_NAMESPACE",
            err=True,
        )
        raise typer.Exit(1)


@app.command("rotate-personal-data-kek")
def rotate_personal_data_kek() -> None:
    """Wrap every customer's data key again with PERSONAL_DATA_KEK, unwrapping the older records with
    PERSONAL_DATA_PREVIOUS_KEKS. Run it once every service holds both; erased customers stay erased."""
    from onestop.servicekit.personal_data import CustomerKeyring

    settings = _settings()
    if not settings.previous_keks:
        raise typer.BadParameter("set PERSONAL_DATA_PREVIOUS_KEKS to the key(s) being replaced")

    async def rewrap() -> int:
        keyring = CustomerKeyring(
            settings.kafka_bootstrap_servers,
            settings.personal_data_kek,
            settings.topic_namespace,
            previous_keks=settings.previous_keks,
        )
        await keyring.start()
        try:
            return await keyring.rewrap_all()
        finally:
            await keyring.stop()

    typer.echo(f"{asyncio.run(rewrap())} customer keys wrapped again with the current key-encryption key")


@app.command("subject-access")
def subject_access(
    customer_id: Annotated[UUID | None, typer.Argument(help="the customer")] = None,
    contact: Annotated[UUID | None, typer.Option(help="or: a contact of a person never identified")] = None,
    out: Annotated[str, typer.Option(help="where to write the JSON")] = "-",
) -> None:
    """Everything the log holds about one person, personal data opened, as JSON."""
    from onestop.ops.subject_access import UnknownContact, export

    if (customer_id is None) == (contact is None):
        raise typer.BadParameter("name the customer, or (for someone never identified) --contact")
    settings = _settings()
    try:
        found = asyncio.run(
            export(
                settings.kafka_bootstrap_servers,
                settings.topic_namespace,
                customer_id,
                settings.personal_data_kek,
                contact_id=contact,
            )
        )
    except UnknownContact as exc:
        raise typer.BadParameter(str(exc)) from exc
    text = json.dumps(found, indent=2)
    if out == "-":
        typer.echo(text)
    else:
        with open(out, "w") as file:
            file.write(text)
        typer.echo(f"{len(found['events'])} events about {found['customer_id']} written to {out}")


@app.command()
def token(
    scope: Annotated[list[str], typer.Option(help="repeat for several scopes")],
    subject: Annotated[str, typer.Option(help="who the token is for: the client system or the person")] = "operator",
    service_area: Annotated[
        list[str] | None, typer.Option(help="the areas it may act on; a back-office client must name them")
    ] = None,
    minutes: Annotated[
        int, typer.Option(min=1, help="how long it lives (ONESTOP_AUTH_MAX_TOKEN_LIFETIME at most)")
    ] = 60,
) -> None:
    """A client token signed with the configured secret (ONESTOP_AUTH_SECRET, from the environment or .env)."""
    if "backoffice:write" in scope and not service_area:
        raise typer.BadParameter("a back-office client's token must name its areas: add --service-area")
    try:
        settings = AuthSettings()
    except ValidationError as exc:
        typer.echo("cannot sign a token: " + "; ".join(setting_problems(exc, AuthSettings)), err=True)
        raise typer.Exit(1) from None
    try:
        minted = mint_token(
            subject, scope, service_areas=service_area or None, ttl=timedelta(minutes=minutes), settings=settings
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(minted)


@app.command("open311-key")
def open311_key(client: Annotated[str, typer.Argument(help="the reporting site, e.g. fixmystreet")]) -> None:
    """A new API key for an Open311 client: add the line's `key:client` to INTAKE_OPEN311_API_KEYS (comma
    separated) and restart intake; give the key to that site alone."""
    if not client or any(mark in client for mark in ":,"):
        raise typer.BadParameter("a client name without ':' or ','")
    typer.echo(f"{secrets.token_urlsafe(32)}:{client}")


if __name__ == "__main__":
    app()
