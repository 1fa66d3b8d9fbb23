import pytest
from django.urls import reverse

from marketplace.organisations.roles import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PROTECTED = ["/", "/members/", "/members/add/", "/members/1/", "/members/1/plots/add/", "/people/", "/organisations/"]


@pytest.mark.parametrize("path", PROTECTED)
def test_pages_ask_anonymous_visitors_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_an_accessible_email_form(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<meta name="viewport"' in html
    assert 'type="email"' in html
    assert '<label for="id_username">' in html
    assert 'autocomplete="current-password"' in html


def test_signing_in_with_email_and_password_opens_the_dashboard(client, coop, user_in):
    user = user_in(coop, Role.CLERK)
    response = client.post(reverse("login"), {"username": user.email.upper(), "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert response.context["user"] == user
    assert "Coopérative Alpha" in response.content.decode()


def test_a_wrong_password_is_refused_with_a_message(client, coop, user_in):
    user = user_in(coop)
    response = client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert "The email address or password is wrong" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_sign_in_with_a_friendly_page(client, coop, user_in, settings):
    settings.AXES_LOCKOUT_CALLABLE = "marketplace.organisations.views.lockout_response"
    user = user_in(coop)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many sign-in attempts" in html
    assert "Wait 15 minutes, then try again." in html
    # The right password does not get through while locked.
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_keeps_the_api_json_error(api_client, coop, user_in, settings):
    settings.AXES_LOCKOUT_CALLABLE = "marketplace.organisations.views.lockout_response"
    user = user_in(coop)
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        response = api_client.post(reverse("api-token"), {"email": user.email, "password": "wrong"}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"


def test_lockout_page_in_french(client, coop, user_in, settings):
    settings.AXES_LOCKOUT_CALLABLE = "marketplace.organisations.views.lockout_response"
    user = user_in(coop)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            reverse("login"), {"username": user.email, "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="fr"
        )
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.content.decode()


def test_signing_out_is_a_post(client, coop, user_in, login):
    login(user_in(coop))
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_pages_speak_french_from_the_browser_language(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr")
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Se connecter" in html
    assert "Adresse e-mail" in html


def test_the_language_switcher_sets_french_for_the_next_pages(client, coop, user_in, login):
    login(user_in(coop))
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/members/"})
    assert response.status_code == 302
    assert response["Location"] == "/members/"
    html = client.get("/members/").content.decode()
    assert '<html lang="fr">' in html
    assert "Registre des membres" in html
    # and back to English
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Member register" in client.get("/members/").content.decode()


def test_every_page_offers_the_language_switcher(client):
    html = client.get(reverse("login")).content.decode()
    assert f'action="{reverse("language-switch")}"' in html
    assert '<option value="fr" lang="fr">Français</option>' in html


def test_the_lockout_template_also_works_as_axes_lockout_template(client, coop, user_in, settings):
    settings.AXES_LOCKOUT_CALLABLE = None
    settings.AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
    user = user_in(coop)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    assert response.status_code == 429
    assert "Wait a few minutes, then try again." in response.content.decode()
