"""The declared Kafka rights of each service: least privilege, and true to what the services do."""

from pathlib import Path

from onestop.analytics.handlers import CONSUMER_GROUP as ANALYTICS_GROUP
from onestop.analytics.handlers import TOPICS as ANALYTICS_TOPICS
from onestop.cases.app import CONSUMED as CASES_CONSUMED
from onestop.contracts import topics
from onestop.contracts.kafka_access import SERVICES, Operation, PatternType, ResourceType, access_of, provisioned_topics
from onestop.localinfra import kafka, kafka_acls
from onestop.servicekit.messaging import dead_letter_topic_of
from onestop.servicekit.settings import ServiceSettings


def writers_of(topic: topics.Topic) -> set[str]:
    return {access.service for access in SERVICES if topic in access.writes}


def test_only_cases_writes_case_events_and_every_other_topic_has_one_owner() -> None:
    assert writers_of(topics.CASES) == {"cases"}
    assert writers_of(topics.CONTACTS) == {"intake"}
    assert writers_of(topics.ROUTING) == {"routing"}
    # Back-office systems, not services, report on handed-off work.
    assert writers_of(topics.BACK_OFFICE) == set()
    shared = {topics.CUSTOMER_KEYS}  # every service that seals personal data may have to make a key
    for topic in set(topics.ALL_TOPICS) - shared - {topics.BACK_OFFICE}:
        assert len(writers_of(topic)) == 1, topic.name


def test_intake_has_no_right_on_the_case_topic_but_to_read_it() -> None:
    rules = {rule.name: rule for rule in access_of("intake").rules("ns.")}
    assert rules["ns.onestop.cases.v1"].operations == (Operation.READ,)
    assert Operation.READ not in rules["ns.onestop.contacts.v1"].operations
    topic_rules = [rule for rule in rules.values() if rule.resource_type is ResourceType.TOPIC]
    assert all(rule.pattern is PatternType.LITERAL for rule in topic_rules)
    [transactions] = [rule for rule in rules.values() if rule.resource_type is ResourceType.TRANSACTIONAL_ID]
    assert (transactions.name, transactions.pattern) == ("onestop-intake-", PatternType.PREFIX)


def test_services_read_what_they_consume() -> None:
    assert set(CASES_CONSUMED) <= set(access_of("cases").reads)
    assert set(ANALYTICS_TOPICS) <= set(access_of("analytics").reads)
    assert ANALYTICS_GROUP in access_of("analytics").consumers
    for access in SERVICES:  # each that seals or opens personal data follows the customer-key topic
        assert (topics.CUSTOMER_KEYS in access.reads) is (access.service != "analytics")


def test_group_and_dead_letter_names_are_the_runtimes() -> None:
    for access in SERVICES:
        settings = ServiceSettings(service_name=access.service, topic_namespace="ns.")
        rules = access.rules("ns.")
        assert settings.consumer_group() in {rule.name for rule in rules if rule.resource_type is ResourceType.GROUP}
        dead_letters = dead_letter_topic_of(settings)
        assert dead_letters in access.dead_letter_topics and dead_letters in provisioned_topics()
        assert Operation.WRITE in next(r for r in rules if r.name == dead_letters.qualified("ns.")).operations


def test_the_local_settings_give_each_service_its_own_credentials() -> None:
    credentials = {kafka.ADMIN: "admin-secret"} | {access.username: f"{access.service}-secret" for access in SERVICES}
    broker = kafka.ScramBroker("127.0.0.1:9292", Path("/nowhere"), credentials)
    lines = dict(line.split("=", 1) for line in kafka_acls.env_settings(broker).splitlines() if "=" in line)
    assert lines["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert lines["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert lines["INTAKE_KAFKA_SASL_USERNAME"] == "onestop-intake"
    assert lines["INTAKE_KAFKA_SASL_PASSWORD"] == "intake-secret"
    assert lines["CASES_KAFKA_SASL_PASSWORD"] == "cases-secret"
