import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from marketplace.organisations.middleware import CurrentOrganisationMiddleware

pytestmark = pytest.mark.django_db


def test_the_404_page_has_the_site_look(client, coop, user_in, login):
    login(user_in(coop))
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "/static/css/app.css" in html
    assert 'class="main-nav"' in html


def test_the_404_page_in_french(client):
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Page introuvable" in response.content.decode()


def test_the_500_page_renders_without_touching_the_database(coop, user_in, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = user_in(coop)  # signed in: the page must still not load memberships
    request.session = {}
    CurrentOrganisationMiddleware(lambda r: None)(request)
    with django_assert_num_queries(0), translation.override("en"):
        html = render_to_string("500.html", request=request)
    assert "Something went wrong" in html
    assert "/static/css/app.css" in html


def test_the_api_keeps_json_errors(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_a_form_sent_without_its_csrf_token_gets_a_friendly_page(coop, user_in):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user_in(coop), backend="django.contrib.auth.backends.ModelBackend")
    response = client.post("/members/add/", {"name": "X"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "The form has expired" in html
    assert "/static/css/app.css" in html
