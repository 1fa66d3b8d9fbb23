"""Rename the moved table to core's name, once payments no longer holds the model (payments.0011)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_idempotentrequest_from_payments"),
        ("payments", "0011_idempotentrequest_moved_to_core"),
    ]

    operations = [migrations.AlterModelTable(name="idempotentrequest", table=None)]
