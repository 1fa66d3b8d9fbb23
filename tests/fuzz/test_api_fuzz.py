"""Schema-driven fuzzing of the whole API (schemathesis over the WSGI app, in process, no network).

Every operation of the OpenAPI schema is called with data generated from its own schema, as four people: a
cooperative's manager, a buyer's manager, an input supplier's manager and the platform operator, each with a token.
Ids in paths are the real ids of a small marketplace built by the orders tests' factories (a lot, a listing, an
offer, orders, a payment, an invitation, a farmer and plot...), or, for one request in four, the generated value
itself, so that both the found and the not-found branches run. Generation is derandomized: the same code gives the
same requests.

Checks: no 5xx (not_a_server_error) and every response matches the schema (response_schema_conformance).
FUZZ_EXAMPLES sets the number of examples per operation (default 10); see docs/api.md.
"""

import json
import os
import zlib

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from marketplace.organisations import services as organisation_services
from payments.services.payments import payment_start
from tests.orders.factories import advance, make_world, place

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
REPORT = os.environ.get("FUZZ_REPORT", "")  # a path: write the status codes seen per operation there (JSON lines)
ROLES = ["cooperative", "buyer", "supplier", "operator"]

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


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
def shared_world(django_db_setup, django_db_blocker, in_test_transaction):
    """Built once per module (per xdist worker) inside a transaction that is rolled back at the end; each test's
    own transaction (the `db` fixture) is a savepoint inside it, so every operation starts from the same data."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(shared_world, db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return shared_world


def build_world() -> dict:
    world = make_world()
    order = place(world)
    accepted = advance(world, place(world, grams=1_000_000), "accepted")
    payment = payment_start(
        actor=world.buyer.manager, order_id=accepted.pk, amount=accepted.total_amount, currency=accepted.currency
    )
    invitation = organisation_services.invitation_create(
        actor=world.seller.admin, organisation_id=world.seller.organisation.pk, email="new@example.org", role="viewer"
    )
    people = {
        "cooperative": (world.seller.manager, world.seller.organisation),
        "buyer": (world.buyer.manager, world.buyer.organisation),
        "supplier": (world.supplier.manager, world.supplier.organisation),
        "operator": (world.operator.admin, world.operator.organisation),
    }
    lot = world.listing.lot
    delivery = lot.contributions.first().delivery
    farmer = delivery.farmer
    ids = {
        "deliveries": delivery.pk,
        "farmers": farmer.pk,
        "plots": farmer.plots.first().pk,
        "listings": world.listing.pk,
        "lots": lot.pk,
        "offers": world.offer.pk,
        "memberships": world.seller.viewer.memberships.get().pk,
        "orders": order.number,
        "purchases": order.purchase.reference,
        "payments": payment.pk,
        "invitations": invitation.pk,
    }
    return {
        "tokens": {role: organisation_services.auth_token_issue(user=user) for role, (user, _) in people.items()},
        "organisations": {role: organisation.pk for role, (_, organisation) in people.items()},
        "ids": ids,
    }


def real_value(path: str, name: str, role: str, world: dict):
    """The real id a path parameter names, or None to keep the generated value."""
    segments = [s for s in path.split("/") if s]
    position = segments.index("{" + name + "}")
    collection = segments[position - 1]
    if name == "organisation_id" or collection == "organisations":
        return world["organisations"][role]
    if collection == "orders" and segments[0] == "payments":
        return world["ids"]["orders"]
    return world["ids"].get(collection)


def fill_path(case, role: str, world: dict) -> None:
    for name, value in list((case.path_parameters or {}).items()):
        keep_generated = zlib.crc32(repr(value).encode()) % 4 == 0
        real = None if keep_generated else real_value(case.operation.path, name, role, world)
        if real is not None:
            case.path_parameters[name] = real


@schema.parametrize()
@schema.given(role=st.sampled_from(ROLES))
@hypothesis.settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_responses_match_the_schema(case, role, world):
    fill_path(case, role, world)
    response = case.call_and_validate(
        headers={"Authorization": f"Token {world['tokens'][role]}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
    if REPORT:
        meta = getattr(case, "_meta", None)
        mode = str(getattr(getattr(meta, "generation", None), "mode", ""))
        with open(REPORT, "a") as report:
            row = {"operation": case.operation.label, "role": role, "mode": mode, "status": response.status_code}
            report.write(json.dumps(row) + "\n")
