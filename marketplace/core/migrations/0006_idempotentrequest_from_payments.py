"""The idempotency record moves from payments to core (so that any app's API can take an Idempotency-Key): the
state moves here, the table stays where it is until 0007 renames it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_integrity_check_runs"),
        ("payments", "0010_transfer_resends"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='IdempotentRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=80, verbose_name='idempotency key')),
                        ('endpoint', models.CharField(max_length=200, verbose_name='endpoint')),
                        ('request_hash', models.CharField(max_length=64, verbose_name='request hash (SHA-256)')),
                        ('status_code', models.PositiveSmallIntegerField(verbose_name='response status')),
                        ('response_body', models.JSONField(blank=True, null=True, verbose_name='response body')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created at')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'idempotent request',
                        'verbose_name_plural': 'idempotent requests',
                        'db_table': 'payments_idempotentrequest',
                        'constraints': [models.UniqueConstraint(fields=('user', 'key'), name='idempotent_request_once_per_user')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
