"""What the platform's tests share: settings for a small service of the test's own, on the test's broker
namespace and database."""

from collections.abc import Callable

import pytest

from onestop.servicekit.settings import ServiceSettings


@pytest.fixture
def service_settings(kafka_bootstrap: str, namespace: str, database_url: str) -> Callable[[str], ServiceSettings]:
    def settings_of(service_name: str) -> ServiceSettings:
        return ServiceSettings(
            service_name=service_name,
            kafka_bootstrap_servers=kafka_bootstrap,
            topic_namespace=namespace,
            database_url=database_url,
            database=database_url.rsplit("/", 1)[1],
        )

    return settings_of
