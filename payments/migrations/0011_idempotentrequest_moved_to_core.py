"""The idempotency record now belongs to core (core.0006): drop it from this app's state, keep the table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0010_transfer_resends"),
        ("core", "0006_idempotentrequest_from_payments"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotentRequest")],
            database_operations=[],
        ),
    ]
