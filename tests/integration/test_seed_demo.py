"""The demo, end to end: seeding twice, signing in with every demo account, the admin, and the deploy checks."""

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import phonenumbers
import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.utils import get_random_secret_key
from django.db import connection

from marketplace.core.models import AuditEvent
from marketplace.demo.organisations import PASSWORD, SUPERUSER_EMAIL, demo_accounts, ring_area_hectares
from marketplace.organisations.models import MemberFarmer, Organisation, Plot, User
from tests.integration import database_url

REPOSITORY = Path(__file__).resolve().parents[2]
# Tables that signing in writes to; they are not demo data.
NOT_DEMO_DATA = {"sessions.session", "authtoken.token", "axes.accesslog", "axes.accessattempt", "axes.accessfailurelog"}


def seed_demo(stdout=None) -> None:
    # pytest-django runs with DEBUG off, which the command takes for production unless told otherwise.
    call_command("seed_demo", allow_production=True, stdout=stdout or StringIO())


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.label_lower not in NOT_DEMO_DATA
    }


@pytest.fixture
def seeded(db):
    seed_demo()


@pytest.mark.django_db
def test_seeding_twice_changes_nothing():
    seed_demo()
    first = _row_counts()
    output = StringIO()
    seed_demo(output)
    assert _row_counts() == first
    assert "organisations: nothing new" in output.getvalue()
    # with the second maize cooperative of the market demo and the second cocoa cooperative of the matching demo
    assert first["organisations.organisation"] == 10
    assert first["organisations.memberfarmer"] >= 60


def test_three_cooperatives_with_their_members(seeded):
    cooperatives = Organisation.objects.filter(kind=Organisation.Kind.COOPERATIVE)
    assert sorted((c.country.code, c.currency) for c in cooperatives) == [
        ("CI", "XOF"),
        ("CI", "XOF"),  # Méagui Cacao, the matching demo's second cocoa cooperative
        ("KE", "KES"),
        ("KE", "KES"),  # Saboti Maize Farmers, the market demo's second maize cooperative
        ("RW", "RWF"),
    ]
    assert Organisation.objects.filter(kind=Organisation.Kind.BUYER).count() == 2
    assert Organisation.objects.filter(kind=Organisation.Kind.INPUT_SUPPLIER).count() == 2
    assert Organisation.objects.get(kind=Organisation.Kind.OPERATOR).currency == "EUR"
    assert not Organisation.objects.exclude(verification_status=Organisation.Verification.VERIFIED).exists()
    for cooperative in cooperatives.exclude(display_name="Méagui Cacao"):  # the matching demo's, with 3 members
        farmers = list(MemberFarmer.objects.filter(organisation=cooperative))
        assert 20 <= len(farmers) <= 60, cooperative
        women = sum(f.gender == MemberFarmer.Gender.FEMALE for f in farmers) / len(farmers)
        assert 0.30 <= women <= 0.45, (cooperative, women)
        assert any(f.birth_year >= 1991 for f in farmers), "some members are young"
        assert len({f.village for f in farmers}) > 1
        for farmer in farmers:
            if farmer.phone:
                number = phonenumbers.parse(str(farmer.phone))
                assert phonenumbers.is_valid_number(number), farmer.phone
                assert phonenumbers.region_code_for_number(number) == cooperative.country.code
            assert 1 <= farmer.plots.count() <= 3


def test_plot_geometry_is_valid_where_present(seeded):
    checked = 0
    for plot in Plot.objects.select_related("organisation"):
        if plot.geometry is None:
            continue
        assert plot.geometry["type"] == "Polygon"
        ring = plot.geometry["coordinates"][0]
        assert len(ring) >= 4 and ring[0] == ring[-1], "closed ring"
        area = ring_area_hectares(ring)
        assert area > 0, "exterior ring is counter-clockwise"
        assert abs(area - float(plot.area_hectares)) <= 0.01 * float(plot.area_hectares), plot
        for lon, lat in ring:
            assert len(repr(lon).split(".")[1]) == 6 and len(repr(lat).split(".")[1]) == 6
            assert abs(lat - float(plot.organisation.latitude)) < 0.1
            assert abs(lon - float(plot.organisation.longitude)) < 0.1
        checked += 1
    cocoa_and_coffee = Plot.objects.filter(organisation__country__in=["CI", "RW"])
    assert checked >= 0.8 * cocoa_and_coffee.count()
    assert cocoa_and_coffee.filter(geometry__isnull=True).exists(), "a few plots still lack geolocation"


def test_every_demo_account_can_sign_in(seeded, api_client):
    for row in demo_accounts():
        response = api_client.post("/api/v1/auth/token/", {"email": row["email"], "password": PASSWORD})
        assert response.status_code == 200, (row["email"], response.json())
        assert response.json()["token"]


def test_readme_lists_exactly_the_demo_accounts():
    readme = (REPOSITORY / "README.md").read_text()
    section = readme.split("## Demo accounts", 1)[1].split("\n## ", 1)[0]
    table = []
    for line in section.splitlines():
        if line.startswith("|"):
            table.append(line)
        elif table:
            break  # the first table of the section is the accounts table
    cells = [[cell.strip().strip("`") for cell in line.strip().strip("|").split("|")] for line in table]
    rows = [row for row in cells if row[0].lower() != "email" and not set(row[0]) <= {"-", " "}]
    expected = [[r["email"], r["password"], r["organisation"], r["role"]] for r in demo_accounts()]
    assert rows == expected


def test_the_admin_works_for_the_demo_superuser(seeded, client):
    client.force_login(User.objects.get(email=SUPERUSER_EMAIL))
    for model in ["user", "organisation", "membership", "invitation", "memberfarmer", "plot"]:
        response = client.get(f"/admin/organisations/{model}/")
        assert response.status_code == 200, model
    farmer = MemberFarmer.objects.first()
    assert client.get(f"/admin/organisations/memberfarmer/{farmer.pk}/change/").status_code == 200

    buyer = Organisation.objects.get(kind=Organisation.Kind.BUYER, country="NL")
    url = "/admin/organisations/organisation/"
    response = client.post(url, {"action": "suspend", "_selected_action": [buyer.pk], "reason": "Unpaid invoices"})
    assert response.status_code == 302
    buyer.refresh_from_db()
    assert buyer.verification_status == Organisation.Verification.SUSPENDED
    event = AuditEvent.objects.filter(action="organisation.verification", subject_id=str(buyer.pk)).first()
    assert (event.to_status, event.reason, event.actor.email) == ("suspended", "Unpaid invoices", SUPERUSER_EMAIL)

    client.post(url, {"action": "verify", "_selected_action": [buyer.pk], "reason": ""})
    buyer.refresh_from_db()
    assert buyer.verification_status == Organisation.Verification.VERIFIED

    # Suspending needs a reason; without one nothing changes and the admin says why.
    response = client.post(url, {"action": "suspend", "_selected_action": [buyer.pk], "reason": ""}, follow=True)
    assert "Give a reason" in response.content.decode()
    buyer.refresh_from_db()
    assert buyer.verification_status == Organisation.Verification.VERIFIED


def test_deploy_checks_pass_with_production_settings(django_db_setup):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "DEBUG": "false",
        "SECRET_KEY": get_random_secret_key(),
        "ALLOWED_HOSTS": "example.org",
        "DATABASE_URL": database_url(connection.settings_dict),
    }
    # Leave out what the test run itself sets: the browser tests' conftest sets DJANGO_ALLOW_ASYNC_UNSAFE.
    for name in ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE"]:
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_env_example_lists_every_setting_read_from_the_environment():
    settings_source = (REPOSITORY / "marketplace" / "settings.py").read_text()
    read = set(re.findall(r"""env(?:\.[a-z_]+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""", settings_source))
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (REPOSITORY / ".env.example").read_text(), re.MULTILINE))
    assert read, "found no env(...) calls in settings.py"
    assert read - listed == set(), "add these to .env.example, with a comment saying what they do"
