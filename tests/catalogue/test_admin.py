"""Every catalogue model has an admin page that lists and shows its records; records written by services are
read-only there."""

import pytest
from django.contrib import admin

from catalogue import models
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CATALOGUE_MODELS = [
    model for model in (getattr(models, name) for name in dir(models))
    if isinstance(model, type) and getattr(model, "_meta", None) and model._meta.app_label == "catalogue"
    and not model._meta.abstract and not model._meta.auto_created
]  # fmt: skip


def test_every_model_is_registered():
    missing = [model.__name__ for model in CATALOGUE_MODELS if model not in admin.site._registry]
    assert missing == []


def test_every_changelist_and_change_page_renders(client, make_lot, make_listing, fairtrade, record, farmers):
    make_listing(make_lot((100_000,)), certification_ids=[fairtrade.pk])
    services_reversal = record(farmers[1])
    from catalogue import services

    services.delivery_reverse(actor=services_reversal.recorded_by, delivery_id=services_reversal.pk, reason="x")
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    for model in CATALOGUE_MODELS:
        label = f"{model._meta.app_label}/{model._meta.model_name}"
        listing = client.get(f"/admin/{label}/", {"q": "a"})
        assert listing.status_code == 200, label
        instance = model.objects.first()
        if instance is not None:
            assert client.get(f"/admin/{label}/{instance.pk}/change/").status_code == 200, label


def test_deliveries_cannot_be_changed_in_the_admin(client, record, farmers):
    delivery = record(farmers[0])
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(f"/admin/catalogue/delivery/{delivery.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert models.Delivery.objects.filter(pk=delivery.pk).exists()
