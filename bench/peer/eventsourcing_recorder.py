"""Runs inside the peer's own environment (eventsourcing[postgres], psycopg): times the library's
PostgreSQL application recorder appending `batch` events per transaction, and prints JSON.

python eventsourcing_recorder.py HOST PORT USER PASSWORD DBNAME APPENDS BATCH PAYLOAD_FILE
"""

import json
import sys
import time
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore


def main() -> None:
    host, port, user, password, dbname, appends, batch, payload_file = sys.argv[1:9]
    payload = Path(payload_file).read_bytes()
    datastore = PostgresDatastore(dbname=dbname, host=host, port=port, user=user, password=password, pool_size=2)
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    latencies_ms = []
    for _ in range(int(appends)):
        originator = uuid4()
        events = [
            StoredEvent(originator_id=originator, originator_version=v, topic="onestop:NoteAdded", state=payload)
            for v in range(1, int(batch) + 1)
        ]
        started = time.perf_counter()
        recorder.insert_events(events)
        latencies_ms.append((time.perf_counter() - started) * 1000)
    datastore.close()
    print(json.dumps({"latencies_ms": latencies_ms}))


if __name__ == "__main__":
    main()
