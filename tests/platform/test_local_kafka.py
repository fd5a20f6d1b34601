"""The local Kafka the tests and `make run` start from Maven Central's jars."""

from onestop.localinfra import kafka


def test_a_new_cluster_id_never_starts_with_a_dash() -> None:
    # StorageTool reads an id that starts with "-" as an option and refuses to format the node: one new
    # installation in 64 could not start. A thousand ids hold such a one unless they are drawn past it.
    ids = [kafka._random_cluster_id() for _ in range(1000)]
    assert not [cluster_id for cluster_id in ids if cluster_id.startswith("-")]
    assert all(len(cluster_id) == 22 for cluster_id in ids)
