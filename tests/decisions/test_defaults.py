"""A cooperative's defaults per kind of decision: the API and the managers' page, bounded input, isolation, French."""

import datetime

import pytest
from django.utils import timezone

from marketplace.core.models import AuditEvent
from marketplace.decisions import services
from marketplace.decisions.models import DecisionDefaults
from tests.decisions.conftest import motion

pytestmark = pytest.mark.django_db

GOOD = {
    "quorum_bp": 3000, "threshold_bp": 6667, "duration_days": 10, "anonymous": True, "results_before_close": True,
    "notice_days": 21, "vote_above_amount": None, "vote_above_kg": None,
}  # fmt: skip


def test_the_api_lists_every_kind_and_a_manager_sets_one(as_user, manager, coop):
    url = f"/api/v1/decisions/defaults/{coop.pk}/"
    listed = as_user(manager).get(url)
    assert listed.status_code == 200
    rows = {row["kind"]: row for row in listed.json()}
    assert set(rows) == {"motion", "election", "assembly", "proposal", "group_order"}
    assert rows["motion"]["quorum_bp"] == 2500 and rows["assembly"]["notice_days"] == 15
    saved = as_user(manager).put(f"{url}motion/", GOOD, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json() == {"kind": "motion", **GOOD}
    assert AuditEvent.objects.filter(action="decision_defaults.set", actor=manager).count() == 1
    # A new motion takes them: quorum, threshold, secrecy, results shown early, and the days open.
    opens = timezone.now() - datetime.timedelta(minutes=1)
    data = motion(opens_at=opens, closes_at=None, quorum_bp=None, threshold_bp=None)
    decision = services.decision_create(actor=manager, organisation_id=coop.pk, data=data)
    assert (decision.quorum_bp, decision.threshold_bp, decision.anonymous, decision.results_before_close) == (
        3000, 6667, True, True,
    )  # fmt: skip
    assert decision.closes_at - decision.opens_at == datetime.timedelta(days=10)
    again = as_user(manager).put(f"{url}motion/", {**GOOD, "quorum_bp": 0}, format="json")
    assert again.status_code == 200 and DecisionDefaults.objects.get(kind="motion").quorum_bp == 0


def test_a_gated_kind_sets_the_size_from_which_a_vote_is_required(as_user, manager, coop):
    url = f"/api/v1/decisions/defaults/{coop.pk}/"
    saved = as_user(manager).put(f"{url}proposal/", {**GOOD, "vote_above_amount": 5_000_000, "vote_above_kg": 10_000},
                                 format="json")  # fmt: skip
    assert saved.status_code == 200, saved.content
    row = DecisionDefaults.objects.get(organisation=coop, kind="proposal")
    assert (row.vote_above_amount, row.vote_above_kg) == (5_000_000, 10_000)


@pytest.mark.parametrize(
    ("kind", "changes", "field"),
    [
        ("motion", {"quorum_bp": 10001}, "quorum_bp"),
        ("motion", {"quorum_bp": -1}, "quorum_bp"),
        ("motion", {"threshold_bp": 0}, "threshold_bp"),
        ("motion", {"duration_days": 121}, "duration_days"),
        ("motion", {"duration_days": 0}, "duration_days"),
        ("motion", {"notice_days": 10**30}, "notice_days"),
        ("motion", {"anonymous": "perhaps"}, "anonymous"),
        ("motion", {"vote_above_kg": 5}, "vote_above_kg"),  # only gated kinds have a size
        ("group_order", {"vote_above_kg": 5}, "vote_above_kg"),  # a group order is sized by its amount
        ("proposal", {"vote_above_amount": 10**16}, "vote_above_amount"),
        ("proposal", {"vote_above_amount": -5}, "vote_above_amount"),
        ("coup", {}, "kind"),
    ],
)
def test_bad_defaults_get_a_clear_400_and_change_nothing(as_user, manager, coop, kind, changes, field):
    response = as_user(manager).put(f"/api/v1/decisions/defaults/{coop.pk}/{kind}/", {**GOOD, **changes},
                                    format="json")  # fmt: skip
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["fields"] and error["message"]
    assert not DecisionDefaults.objects.exists()


def test_another_cooperative_and_staff_below_manager_cannot_set_them(as_user, outsider, clerk, viewer, coop):
    url = f"/api/v1/decisions/defaults/{coop.pk}/"
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(outsider).put(f"{url}motion/", GOOD, format="json").status_code == 404
    assert as_user(viewer).get(url).status_code == 200  # staff read them
    for user in (clerk, viewer):
        assert as_user(user).put(f"{url}motion/", GOOD, format="json").status_code in (403, 404)
    assert as_user(outsider).get("/api/v1/decisions/defaults/99999999/").status_code == 404
    assert not DecisionDefaults.objects.exists()


def test_the_managers_page_sets_the_defaults_in_english_and_french(client, manager, coop, clerk, outsider):
    client.force_login(manager)
    page = client.get("/decisions/defaults/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Defaults of member decisions" in html and "Vote required from this quantity (kg)" in html
    form = {"kind": "proposal", "proposal-kind": "proposal", "proposal-quorum_percent": "30",
            "proposal-threshold_percent": "50.01", "proposal-duration_days": "5", "proposal-notice_days": "15",
            "proposal-vote_above_amount": "", "proposal-vote_above_kg": "20000"}  # fmt: skip
    saved = client.post("/decisions/defaults/", form)
    assert saved.status_code == 302
    row = DecisionDefaults.objects.get(organisation=coop, kind="proposal")
    assert (row.quorum_bp, row.threshold_bp, row.duration_days, row.vote_above_kg, row.anonymous) == (
        3000, 5001, 5, 20000, False,
    )  # fmt: skip
    bad = client.post("/decisions/defaults/", {**form, "proposal-quorum_percent": "101"})
    assert bad.status_code == 400 and DecisionDefaults.objects.get(kind="proposal").quorum_bp == 3000
    unknown = client.post("/decisions/defaults/", {"kind": "coup"})
    assert unknown.status_code == 302
    french = client.get("/decisions/defaults/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Réglages par défaut des décisions" in french.content.decode()
    client.force_login(outsider)  # another cooperative's manager sees its own cooperative's defaults
    assert client.get("/decisions/defaults/").status_code == 200
    client.post("/decisions/defaults/", form)
    assert DecisionDefaults.objects.filter(organisation=coop).count() == 1
    client.force_login(clerk)
    assert client.get("/decisions/defaults/").status_code == 404


def test_a_closing_time_past_the_calendar_is_a_400(as_user, manager, coop):
    body = {"organisation": coop.pk, "kind": "motion", "question": "Far ahead?", "options": ["Yes", "No"],
            "opens_at": "9999-12-31T00:00:00Z"}  # fmt: skip
    response = as_user(manager).post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 400 and "opens_at" in response.json()["error"]["fields"]
