"""The decisions API and pages: what each role may do, isolation between cooperatives, bad input, query counts."""

import datetime

import pytest
from django.utils import timezone

from marketplace.decisions.models import Decision, Vote
from tests.factories import MemberFarmerFactory

pytestmark = pytest.mark.django_db


def body(coop, **changes):
    now = timezone.now()
    data = {
        "organisation": coop.pk,
        "kind": "motion",
        "question": "Hire a second driver?",
        "options": ["Yes", "No"],
        "opens_at": (now - datetime.timedelta(minutes=1)).isoformat(),
        "closes_at": (now + datetime.timedelta(days=2)).isoformat(),
    }
    data.update(changes)
    return data


def test_a_manager_creates_opens_and_closes_through_the_api(as_user, manager, clerk, coop, members):
    created = as_user(manager).post("/api/v1/decisions/", body(coop), format="json")
    assert created.status_code == 201, created.content
    decision = created.json()
    assert decision["status"] == "draft" and decision["quorum_bp"] == 2500  # the cooperative's default
    pk = decision["id"]
    opened = as_user(manager).post(f"/api/v1/decisions/{pk}/transition/", {"status": "open"}, format="json")
    assert opened.status_code == 200 and opened.json()["eligible_count"] == 10
    yes = decision["options"][0]["id"]
    for member in members[:4]:
        voted = as_user(clerk).post(f"/api/v1/decisions/{pk}/votes/", {"farmer": member.pk, "option": yes})
        assert voted.status_code == 204, voted.content
    hidden = as_user(clerk).get(f"/api/v1/decisions/{pk}/results/").json()
    assert hidden["visible"] is False and hidden["per_option"] == [] and hidden["voted"] == 4
    closed = as_user(manager).post(f"/api/v1/decisions/{pk}/transition/", {"status": "closed"}, format="json")
    assert closed.json()["outcome"] == "Decided: Yes."
    results = as_user(clerk).get(f"/api/v1/decisions/{pk}/results/").json()
    assert results["per_option"] == [["Yes", 4], ["No", 0]]
    assert sum(row["eligible"] for row in results["turnout_by_gender"]) == 10
    late = as_user(clerk).post(f"/api/v1/decisions/{pk}/votes/", {"farmer": members[5].pk, "option": yes})
    assert late.status_code == 409 and "closed" in late.json()["error"]["message"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"options": ["Only one"]}, "options"),
        ({"options": "Yes"}, "options"),
        ({"kind": "coup"}, "kind"),
        ({"closes_at": "9999-99-99"}, "closes_at"),
        ({"quorum_bp": 10**30}, "quorum_bp"),
        ({"organisation": 10**30}, "organisation"),
        ({"question": "q" * 301}, "question"),
    ],
)
def test_bad_input_gets_a_clear_400(as_user, manager, coop, changes, field):
    response = as_user(manager).post("/api/v1/decisions/", body(coop, **changes), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Decision.objects.exists()


def test_another_cooperative_sees_nothing_and_changes_nothing(as_user, outsider, make_decision, members):
    decision = make_decision()
    yes = decision.options.first().pk
    assert as_user(outsider).get("/api/v1/decisions/").json()["results"] == []
    for url in (f"/api/v1/decisions/{decision.pk}/", f"/api/v1/decisions/{decision.pk}/results/"):
        assert as_user(outsider).get(url).status_code == 404
    assert (
        as_user(outsider).post(f"/api/v1/decisions/{decision.pk}/transition/", {"status": "closed"}).status_code == 404
    )
    assert as_user(outsider).post(f"/api/v1/decisions/{decision.pk}/votes/",
                                  {"farmer": members[0].pk, "option": yes}).status_code == 404  # fmt: skip
    hands = {"counts": [{"option": yes, "count": 1}]}
    assert as_user(outsider).post(f"/api/v1/decisions/{decision.pk}/hands/", hands, format="json").status_code == 404
    assert not Vote.objects.exists()
    assert Decision.objects.get(pk=decision.pk).status == "open"


def test_a_viewer_reads_but_does_not_vote(as_user, viewer, make_decision, members):
    decision = make_decision()
    assert as_user(viewer).get(f"/api/v1/decisions/{decision.pk}/").status_code == 200
    response = as_user(viewer).post(
        f"/api/v1/decisions/{decision.pk}/votes/", {"farmer": members[0].pk, "option": decision.options.first().pk}
    )
    assert response.status_code == 404
    assert not Vote.objects.exists()


def test_the_list_costs_the_same_queries_for_many_decisions(as_user, manager, make_decision,
                                                            django_assert_max_num_queries):  # fmt: skip
    for i in range(12):
        make_decision(question=f"Question {i}?", open_it=False)
    with django_assert_max_num_queries(6):
        response = as_user(manager).get("/api/v1/decisions/")
    assert response.json()["count"] == 12


def test_the_pages_let_a_manager_and_a_clerk_run_a_vote(client, manager, clerk, coop, members, outsider):
    client.force_login(manager)
    now = timezone.localtime()
    form = {
        "kind": "motion", "question": "Buy a moisture meter?", "options": "Yes\nNo",
        "opens_at": (now - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }  # fmt: skip
    bad = client.post("/decisions/new/", {**form, "options": "Yes"})
    assert bad.status_code == 400 and not Decision.objects.exists()
    response = client.post("/decisions/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    decision = Decision.objects.get()
    client.post(f"/decisions/{decision.pk}/transition/", {"status": "open"})
    client.force_login(clerk)
    page = client.get(f"/decisions/{decision.pk}/")
    assert "Record the vote" in page.content.decode()
    yes = decision.options.get(position=1)
    client.post(f"/decisions/{decision.pk}/votes/", {"farmer": members[0].pk, "option": yes.pk})
    client.post(f"/decisions/{decision.pk}/hands/", {f"option_{yes.pk}": "abc"})  # refused with a message
    client.post(f"/decisions/{decision.pk}/hands/", {f"option_{yes.pk}": "3"})
    client.force_login(manager)
    client.post(f"/decisions/{decision.pk}/transition/", {"status": "closed"})
    decision.refresh_from_db()
    assert (decision.status, decision.votes_cast, decision.outcome) == ("closed", 4, "Decided: Yes.")
    client.force_login(outsider)
    assert client.get(f"/decisions/{decision.pk}/").status_code == 404
    assert client.post(f"/decisions/{decision.pk}/transition/", {"status": "cancelled"}).status_code == 404
    assert client.get("/decisions/new/").status_code == 200  # its own cooperative's form
    assert "Buy a moisture meter" not in client.get("/decisions/").content.decode()


def test_a_stranger_of_all_cooperatives_gets_no_form(client, make_member):
    from marketplace.organisations.models import Organisation
    from marketplace.organisations.roles import Role

    buyer = make_member(Role.MANAGER, kind=Organisation.Kind.BUYER)
    client.force_login(buyer)
    assert client.get("/decisions/new/").status_code == 404


def test_the_detail_page_has_constant_queries(client, clerk, make_decision, coop, django_assert_max_num_queries):
    decision = make_decision()
    for _ in range(30):
        MemberFarmerFactory(organisation=coop)
    client.force_login(clerk)
    with django_assert_max_num_queries(25):
        assert client.get(f"/decisions/{decision.pk}/").status_code == 200


def test_another_cooperatives_staff_record_nothing_through_the_pages(client, make_member, make_decision, members):
    from marketplace.organisations.roles import Role

    decision = make_decision()
    yes = decision.options.get(position=1)
    for role in (Role.CLERK, Role.MANAGER):
        client.force_login(make_member(role))
        assert client.post(f"/decisions/{decision.pk}/votes/", {"farmer": members[0].pk, "option": yes.pk}
                           ).status_code == 404  # fmt: skip
        assert client.post(f"/decisions/{decision.pk}/hands/", {f"option_{yes.pk}": "3"}).status_code == 404
        assert client.post(f"/decisions/{decision.pk}/transition/", {"status": "closed"}).status_code == 404
        assert client.get(f"/decisions/{decision.pk}/").status_code == 404
    assert not Vote.objects.exists()
    assert Decision.objects.get(pk=decision.pk).status == "open"


def test_the_pages_speak_french(client, manager, make_decision):
    decision = make_decision()
    client.force_login(manager)
    listing = client.get("/decisions/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Décisions des membres" in listing
    assert client.get(f"/decisions/{decision.pk}/", HTTP_ACCEPT_LANGUAGE="fr").status_code == 200
