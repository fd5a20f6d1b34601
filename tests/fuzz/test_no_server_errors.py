"""schemathesis against each running service's own OpenAPI document: whatever it sends to any operation, the
service answers without a server error (its `not_a_server_error` check).

CI runs FUZZ_EXAMPLES (default 25) generated requests per operation besides schemathesis's boundary cases,
with a fixed seed; `make fuzz` runs 200 with a new seed each time (the report names it, to replay a find).
schemathesis runs as its command line, which runs every phase and reports what it found; the hooks that aim
it are in `hooks.py`.
"""

import asyncio
import json
import os
import sys

import pytest

from onestop.ops.fleet import SERVICES
from tests.fuzz.conftest import OPEN311_KEY, FuzzTarget

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("FUZZ_SEED", "13")  # "random": schemathesis picks one
# The most one service's run may take: generous, for the 200 examples of `make fuzz` on a busy machine.
WITHIN = float(os.environ.get("FUZZ_TIMEOUT_SECONDS", "1800"))


@pytest.mark.timeout(WITHIN + 60)
@pytest.mark.parametrize("service", SERVICES)
async def test_no_operation_answers_with_a_server_error(fuzz_target: FuzzTarget, service: str) -> None:
    url = fuzz_target.fleet.url(service)
    fuzz = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(EXAMPLES),
        "--header",
        f"Authorization: Bearer {fuzz_target.token()}",
        "--request-timeout",
        "30",
        *(["--seed", SEED] if SEED != "random" else []),
        "--generation-database",
        "none",
        "--no-color",
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
            "FUZZ_KNOWN_IDS": json.dumps(fuzz_target.known),
            "FUZZ_OPEN311_KEY": OPEN311_KEY,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(fuzz.communicate(), timeout=WITHIN)
    except TimeoutError:
        fuzz.kill()
        raise
    report = output.decode(errors="replace")
    saved = fuzz_target.fleet.logs / f"schemathesis-{service}.txt"
    saved.write_text(report)
    assert fuzz.returncode == 0, f"{report[-6000:]}\n(the whole report: {saved}; the services' logs beside it)"
