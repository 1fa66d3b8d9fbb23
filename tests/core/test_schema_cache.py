"""The OpenAPI schema is generated once per process and language (it took 5-8 s a request), and a settings change
(in a test) forgets it."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from marketplace.core.api.schema_view import CachedSchemaView

pytestmark = pytest.mark.django_db


@pytest.fixture
def generations(monkeypatch):
    CachedSchemaView._schemas.clear()
    calls = []
    real = SchemaGenerator.get_schema

    def counted(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    return calls


def test_the_schema_is_generated_once_per_language(client, generations):
    first = client.get("/api/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en")
    again = client.get("/api/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and len(generations) == 1
    french = client.get("/api/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="fr")
    assert french.status_code == 200 and len(generations) == 2
    assert french.content != first.content  # labels and messages in French


def test_a_settings_change_forgets_the_schema(client, generations, settings):
    client.get("/api/schema/", HTTP_ACCEPT="application/json")
    settings.SPECTACULAR_SETTINGS = {**settings.SPECTACULAR_SETTINGS, "VERSION": "9.9.9"}
    client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert len(generations) == 2
