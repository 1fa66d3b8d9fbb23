"""Provider clearing and platform fee accounts (one per currency, in nearly every posting) keep no running balance:
it is the sum of their entries. The stored one is set to 0 first (the entries keep every amount)."""

from django.db import migrations, models


def clear_summed_balances(apps, schema_editor):
    Account = apps.get_model("payments", "Account")
    Account.objects.filter(kind__in=["provider_clearing", "platform_fees"]).update(balance=0)


def restore_summed_balances(apps, schema_editor):
    Account = apps.get_model("payments", "Account")
    Entry = apps.get_model("payments", "Entry")
    for account in Account.objects.filter(kind__in=["provider_clearing", "platform_fees"]):
        total = sum(Entry.objects.filter(account=account).values_list("amount", flat=True))
        account.balance = total if account.kind == "provider_clearing" else -total
        account.save(update_fields=["balance"])


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0003_numbers_from_the_database'),
        ('organisations', '0002_one_operator'),
        ('payments', '0003_escrow_payments'),
    ]

    operations = [
        migrations.RunPython(clear_summed_balances, restore_summed_balances),
        migrations.AddConstraint(
            model_name='account',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ['provider_clearing', 'platform_fees']), _negated=True), ('balance', 0), _connector='OR'), name='ledger_account_summed_has_no_stored_balance'),
        ),
    ]
