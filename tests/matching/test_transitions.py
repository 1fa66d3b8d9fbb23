"""Every (from, to) pair of each matching table against the allowed moves written out here."""

import itertools

import pytest

from marketplace.matching.services import PART_TABLE, PROPOSAL_TABLE, REQUEST_TABLE

REQUEST_STATUSES = ["open", "filled", "withdrawn", "expired"]
REQUEST_ALLOWED = {("open", "filled"), ("open", "withdrawn"), ("open", "expired")}

PROPOSAL_STATUSES = ["open", "accepted", "declined", "withdrawn", "expired"]
PROPOSAL_ALLOWED = {("open", "accepted"), ("open", "declined"), ("open", "withdrawn"), ("open", "expired")}

PART_STATUSES = ["pending", "accepted", "declined", "countered"]
PART_ALLOWED = {
    ("pending", "accepted"),
    ("pending", "declined"),
    ("pending", "countered"),
    ("countered", "accepted"),
    ("countered", "declined"),
    ("countered", "pending"),
}


@pytest.mark.parametrize(("a", "b"), list(itertools.product(REQUEST_STATUSES, repeat=2)))
def test_request_table(a, b):
    assert REQUEST_TABLE.allows(a, b) == ((a, b) in REQUEST_ALLOWED)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(PROPOSAL_STATUSES, repeat=2)))
def test_proposal_table(a, b):
    assert PROPOSAL_TABLE.allows(a, b) == ((a, b) in PROPOSAL_ALLOWED)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(PART_STATUSES, repeat=2)))
def test_part_table(a, b):
    assert PART_TABLE.allows(a, b) == ((a, b) in PART_ALLOWED)
