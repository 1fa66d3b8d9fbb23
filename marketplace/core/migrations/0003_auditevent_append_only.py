from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION coopmarket_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER core_auditevent_append_only
    BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION coopmarket_forbid_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY, REVERSE)]
