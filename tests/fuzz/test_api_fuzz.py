"""Schema-driven fuzzing of the whole API (schemathesis over the WSGI app, in process, no network).

Every operation of the OpenAPI schema is called with data generated from its own schema, as four people: a
cooperative's manager, a buyer's manager, an input supplier's manager and the platform operator, each with a token.
Ids in paths are the real ids of a small marketplace built by the orders tests' factories (a lot, a listing, an
offer, orders, a payment, an invitation, a farmer and plot...), or, for one request in four, the generated value
itself, so that both the found and the not-found branches run. Generation is derandomized: the same code gives the
same requests.

Checks: no 5xx (not_a_server_error) and every response matches the schema (response_schema_conformance).
FUZZ_EXAMPLES sets the number of examples per operation (default 5), FUZZ_PATHS a regular expression of the paths
to fuzz (default all); see docs/api.md.
"""

import json
import os

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.fuzz.values import fill
from tests.fuzz.world import ROLES, build_world

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
COVERAGE = os.environ.get("FUZZ_COVERAGE", "") not in ("", "0")
REPORT = os.environ.get("FUZZ_REPORT", "")  # a path: write the status codes seen per operation there (JSON lines)

ONLY = os.environ.get("FUZZ_PATHS", "")  # a regular expression: fuzz only the operations whose path it matches

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
if ONLY:
    schema = schema.include(path_regex=ONLY)
schema.app = get_wsgi_application()
# The examples and fuzzing phases (max_examples per operation and person); the coverage phase (every boundary and
# enum value the schema defines, some hundred requests per operation) only when asked for: FUZZ_COVERAGE=1.
schema.config.phases.update(phases=["examples", "fuzzing"] + (["coverage"] if COVERAGE else []))
# The API refuses NUL characters and text that is not UTF-8 anywhere (a 400, tested in tests/core); generated
# strings carry neither, so that what the schema allows reaches the views.
schema.config.generation.update(allow_x00=False, codec="utf-8")


@pytest.fixture(scope="module")
def in_test_transaction():
    """The real WSGI handler closes the database connection after each request; the test's transaction must live
    on (django.test.Client disconnects the same handlers)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, in_test_transaction, tmp_path_factory):
    """Built once per module (per xdist worker) inside a transaction that is rolled back at the end; each test's
    own transaction (the `db` fixture) is a savepoint inside it, so every operation starts from the same data."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            media = tmp_path_factory.mktemp("fuzz-media")
            with override_settings(MEDIA_ROOT=media):
                world = build_world()
            yield {**world, "media": media}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(shared_world, db, settings):
    settings.MEDIA_ROOT = shared_world["media"]  # where the world's uploads (dispute evidence) are
    settings.OFFLINE_PAYMENTS = True  # a deployment that takes bank and mobile-money transfers
    return shared_world


@schema.parametrize()
@pytest.mark.parametrize("role", ROLES)
@hypothesis.settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_responses_match_the_schema(case, role, world):
    fill(case, role, world)
    response = case.call_and_validate(
        headers={"Authorization": f"Token {world['tokens'][role]}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
    if REPORT:
        meta = getattr(case, "_meta", None)
        mode = str(getattr(getattr(meta, "generation", None), "mode", ""))
        with open(REPORT, "a") as report:
            row = {"operation": case.operation.label, "role": role, "mode": mode, "status": response.status_code}
            if response.status_code >= 400:
                row["answer"] = response.text[:300]
            report.write(json.dumps(row) + "\n")
