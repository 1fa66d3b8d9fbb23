"""Fixtures for the orders tests: a small marketplace built through the services (see factories)."""

import pytest

from tests.orders.factories import World, make_world


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def artifacts_dir():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
