import pytest

from tests.matching.factories import make_market


@pytest.fixture
def market(db):
    return make_market()


@pytest.fixture
def artifacts_dir():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
