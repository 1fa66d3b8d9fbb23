"""The demo shows a published market series: two maize cooperatives of Trans Nzoia, six months of completed
orders through the real services; the ledger stays consistent."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from marketplace.market.models import PricePoint, Trade
from payments.selectors import ledger_problems


@pytest.mark.django_db
def test_the_demo_publishes_the_maize_series(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", allow_production=True, stdout=StringIO())
    monthly = PricePoint.objects.filter(visible=True, period="month", commodity__code="maize-white", country="KE")
    assert monthly.count() == 6
    assert set(monthly.values_list("trades", "sellers")) == {(4, 2)}
    assert PricePoint.objects.filter(visible=True, period="week").count() == 6
    assert Trade.objects.filter(commodity__code="maize-white").values("seller").distinct().count() == 2
    response = client.get(reverse("market:detail", args=["maize-white", "KE"]))
    assert response.status_code == 200 and "<svg" in response.content.decode()
    assert "per 90 kg bag" in response.content.decode()
    assert ledger_problems() == []
