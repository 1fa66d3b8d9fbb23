"""Every write of a ledger account row stamps it (a trigger, so a write that bypasses the services is stamped
too): the incremental ledger check re-examines the accounts changed since its last run."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0005_webhook_lookup_indexes'),
    ]

    operations = [
        migrations.RunSQL(
            sql="""
CREATE OR REPLACE FUNCTION payments_account_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_at := clock_timestamp();
    RETURN NEW;
END;
$$;
""",
            reverse_sql="DROP FUNCTION IF EXISTS payments_account_stamp();",
        ),
        migrations.AddField(
            model_name='account',
            name='changed_at',
            field=models.DateTimeField(blank=True, db_index=True, editable=False, null=True, verbose_name='changed at'),
        ),
        migrations.RunSQL(
            sql="CREATE TRIGGER payments_account_stamp BEFORE INSERT OR UPDATE ON payments_account "
            "FOR EACH ROW EXECUTE FUNCTION payments_account_stamp();",
            reverse_sql="DROP TRIGGER IF EXISTS payments_account_stamp ON payments_account;",
        ),
    ]
