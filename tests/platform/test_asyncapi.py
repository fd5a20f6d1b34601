"""The AsyncAPI document faststream generates covers every event of the catalogue."""

from onestop.contracts import CATALOGUE
from onestop.servicekit.asyncapi import specification


def test_asyncapi_lists_every_event_on_its_topic() -> None:
    document = specification().to_specification().to_jsonable()
    messages = set(document["components"]["messages"])
    for model in CATALOGUE.models():
        assert f"{model.topic.name}:{model.type}:Message" in messages
    assert document["asyncapi"].startswith("3.")
