"""Order numbers and purchase references come from PostgreSQL sequences (unique, never reused, no lock held);
a trigger lets an order's status change only inside `order_transition`, which sets the transaction-local
setting `coopmarket.order_transition` to the id of the order it moves."""

from django.db import migrations

FORWARD = """
CREATE SEQUENCE IF NOT EXISTS orders_order_number_seq;
CREATE SEQUENCE IF NOT EXISTS orders_purchase_reference_seq;

CREATE OR REPLACE FUNCTION orders_order_status_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'placed' THEN
            RAISE EXCEPTION 'order %: a new order starts as placed, not %', NEW.number, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status
       AND coalesce(current_setting('coopmarket.order_transition', true), '') <> NEW.id::text THEN
        RAISE EXCEPTION 'order %: status changes only through order_transition (% -> %)',
            OLD.number, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER orders_order_status_guard
    BEFORE INSERT OR UPDATE ON orders_order
    FOR EACH ROW EXECUTE FUNCTION orders_order_status_guard();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS orders_order_status_guard ON orders_order;
DROP FUNCTION IF EXISTS orders_order_status_guard();
DROP SEQUENCE IF EXISTS orders_purchase_reference_seq;
DROP SEQUENCE IF EXISTS orders_order_number_seq;
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
