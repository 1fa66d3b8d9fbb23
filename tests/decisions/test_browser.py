"""A manager opens a decision, a clerk records votes at the assembly, and the manager closes it with the result."""

import datetime

import pytest
from django.utils import timezone

from marketplace.decisions.models import Decision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_runs_a_vote_to_its_result(browser_as, live_server, manager, clerk, members):
    page = browser_as(manager)
    page.goto(f"{live_server.url}/decisions/")
    page.get_by_role("link", name="Put a question to the members").click()
    page.get_by_label("Question").fill("Join the regional union?")
    page.get_by_label("Options, one per line").fill("Yes\nNo")
    now = timezone.localtime()
    page.get_by_label("Opens at").fill((now - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Closes at").fill((now + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_role("button", name="Open voting now").click()
    assert page.get_by_test_id("decision-status").inner_text() == "Open for votes"
    for member in members[:3]:
        page.get_by_label("Member", exact=True).select_option(str(member.pk))
        page.get_by_label("Vote", exact=True).select_option(label="Yes")
        page.get_by_role("button", name="Record the vote").click()
    page.get_by_role("button", name="Close voting and count").click()
    assert page.get_by_test_id("decision-outcome").inner_text() == "Decided: Yes."
    assert "Yes" in page.get_by_test_id("per-option").inner_text()
    assert Decision.objects.get().votes_cast == 3
