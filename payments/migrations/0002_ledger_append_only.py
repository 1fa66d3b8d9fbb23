from django.db import migrations

# coopmarket_forbid_change() is defined by core's migration 0003.
SQL = """
CREATE TRIGGER payments_entry_append_only BEFORE UPDATE OR DELETE ON payments_entry
    FOR EACH ROW EXECUTE FUNCTION coopmarket_forbid_change();
CREATE TRIGGER payments_ledgertransaction_append_only BEFORE UPDATE OR DELETE ON payments_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION coopmarket_forbid_change();
"""
REVERSE = """
DROP TRIGGER IF EXISTS payments_entry_append_only ON payments_entry;
DROP TRIGGER IF EXISTS payments_ledgertransaction_append_only ON payments_ledgertransaction;
"""


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_ledger"), ("core", "0003_auditevent_append_only")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
