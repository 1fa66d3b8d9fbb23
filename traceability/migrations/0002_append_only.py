from django.db import migrations

# Events are append-only: any UPDATE or DELETE of a stored event or of its lot edges fails.
# (TRUNCATE is left to the table owner: Django's test runner empties tables with it.)
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION traceability_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed; declare an error and record a corrective event instead',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER traceability_event_append_only
    BEFORE UPDATE OR DELETE ON traceability_event
    FOR EACH ROW EXECUTE FUNCTION traceability_forbid_change();

CREATE TRIGGER traceability_eventlot_append_only
    BEFORE UPDATE OR DELETE ON traceability_eventlot
    FOR EACH ROW EXECUTE FUNCTION traceability_forbid_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS traceability_eventlot_append_only ON traceability_eventlot;
DROP TRIGGER IF EXISTS traceability_event_append_only ON traceability_event;
DROP FUNCTION IF EXISTS traceability_forbid_change();
"""


class Migration(migrations.Migration):
    dependencies = [("traceability", "0001_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY, REVERSE)]
