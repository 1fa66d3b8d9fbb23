"""Demo set-up: the embedded PostgreSQL can be stopped, and the API docs need nothing from the internet."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from marketplace.embedded_postgres import embedded_database_settings, stop_embedded_database

ROOT = Path(__file__).resolve().parents[2]


def test_the_embedded_database_stops_and_a_second_stop_is_harmless(tmp_path):
    folder = tmp_path / "pg"
    embedded_database_settings(folder)
    assert (folder / "postmaster.pid").exists()
    assert stop_embedded_database(folder) is True
    assert not (folder / "postmaster.pid").exists()
    assert stop_embedded_database(folder) is False


def test_make_demo_takes_host_and_port_and_derives_the_site_address():
    makefile = (ROOT / "Makefile").read_text()
    assert "runserver $(HOST):$(PORT)" in makefile and "export SITE_BASE_URL" in makefile
    assert "SITE_BASE_URL ?= http://" in makefile and "stop:" in makefile


@pytest.mark.django_db
def test_the_api_docs_load_swagger_ui_from_our_own_static_files(client):
    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(not s.startswith(("http://", "https://", "//")) for s in sources), sources
    assert any("swagger-ui" in s for s in sources)
    for source in sources:
        if source.startswith("/static/"):
            assert finders.find(source.removeprefix("/static/").split("?")[0]), source
