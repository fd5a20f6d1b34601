"""The benchmark harness runs end to end at smoke size and writes well-formed results (no timing asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_bench_smoke_writes_json_and_a_table(tmp_path: Path, kafka_bootstrap: str, postgres_url: str) -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": postgres_url}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "smoke", "--out", str(tmp_path)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    for figure in ("onestop_event_store", "raw_asyncpg_inserts"):
        assert results["event_store"][figure]["count"] == 200
    assert results["intake"]["intake_http_to_kafka_ack"]["count"] == 40
    saturated = results["intake"]["saturated"]
    assert saturated["1_process"]["api"]["count"] == saturated["2_processes"]["api"]["count"] == 40
    assert results["replay"][0]["analytics_rebuild"]["count"] == 2_000
    assert results["replay"][0]["bare_aiokafka_consumer"]["count"] == 2_000
    assert results["kafka_limit"]["received"] == results["kafka_limit"]["messages"] == 2_000
    [e2e] = results["end_to_end"]
    assert e2e["share_of_kafka_limit"] is not None
    assert e2e["flood"]["contacts"] == 40 and e2e["failed_submissions"] == 0, e2e["failure_reasons"]
    assert e2e["flood"]["not_raised"] == 0 and e2e["flood"]["not_notified"] == 0, "every contact went all the way"
    assert set(e2e["levels"]) == {"25%", "50%", "100%"}
    table = (tmp_path / "latest.md").read_text()
    for row in ("| event store append", "| intake at its most", "| end to end, 1 instance(s), 50%"):
        assert row in table, row
