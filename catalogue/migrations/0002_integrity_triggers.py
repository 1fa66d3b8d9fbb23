"""Rules that span rows, enforced by the database.

- Deliveries, lot intakes, member shares and lot lineage are append-only (a mistake in a delivery is
  corrected by a reversing entry; a split or merge makes new lots).
- A lot's quantity, commodity, grade and organisation never change, and lots are never deleted.
- At commit, the member shares of every new lot sum exactly to its quantity.
- The listings of a lot never offer more than the lot holds: active and paused listings count what they
  offer, withdrawn ones what they reserved or sold. The trigger locks the lot row, so two concurrent
  listings of the same lot are checked one after the other.
"""

from django.db import migrations

FORWARD = """
CREATE TRIGGER catalogue_delivery_append_only
    BEFORE UPDATE OR DELETE ON catalogue_delivery
    FOR EACH ROW EXECUTE FUNCTION coopmarket_forbid_change();
CREATE TRIGGER catalogue_lotintake_append_only
    BEFORE UPDATE OR DELETE ON catalogue_lotintake
    FOR EACH ROW EXECUTE FUNCTION coopmarket_forbid_change();
CREATE TRIGGER catalogue_lotcontribution_append_only
    BEFORE UPDATE OR DELETE ON catalogue_lotcontribution
    FOR EACH ROW EXECUTE FUNCTION coopmarket_forbid_change();
CREATE TRIGGER catalogue_lotlineage_append_only
    BEFORE UPDATE OR DELETE ON catalogue_lotlineage
    FOR EACH ROW EXECUTE FUNCTION coopmarket_forbid_change();

CREATE TRIGGER catalogue_lot_no_delete
    BEFORE DELETE ON catalogue_lot
    FOR EACH ROW EXECUTE FUNCTION coopmarket_forbid_change();
CREATE TRIGGER catalogue_lot_fixed_contents
    BEFORE UPDATE ON catalogue_lot
    FOR EACH ROW
    WHEN (OLD.quantity_grams IS DISTINCT FROM NEW.quantity_grams
          OR OLD.commodity_id IS DISTINCT FROM NEW.commodity_id
          OR OLD.grade_id IS DISTINCT FROM NEW.grade_id
          OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id)
    EXECUTE FUNCTION coopmarket_forbid_change();

CREATE FUNCTION catalogue_lot_shares_balance() RETURNS trigger AS $$
DECLARE
    the_lot bigint;
    lot_quantity bigint;
    shares bigint;
BEGIN
    IF TG_TABLE_NAME = 'catalogue_lot' THEN
        the_lot := NEW.id;
    ELSE
        the_lot := NEW.lot_id;
    END IF;
    SELECT quantity_grams INTO lot_quantity FROM catalogue_lot WHERE id = the_lot;
    SELECT COALESCE(SUM(grams), 0) INTO shares FROM catalogue_lotcontribution WHERE lot_id = the_lot;
    IF shares IS DISTINCT FROM lot_quantity THEN
        RAISE EXCEPTION 'the member shares of lot % sum to % g, not to its quantity of % g',
            the_lot, shares, lot_quantity
            USING ERRCODE = 'check_violation', CONSTRAINT = 'lot_shares_balance';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER catalogue_lot_shares_balance
    AFTER INSERT ON catalogue_lot
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION catalogue_lot_shares_balance();
CREATE CONSTRAINT TRIGGER catalogue_lotcontribution_balance
    AFTER INSERT ON catalogue_lotcontribution
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION catalogue_lot_shares_balance();

CREATE FUNCTION catalogue_listing_within_lot() RETURNS trigger AS $$
DECLARE
    the_lot catalogue_lot%ROWTYPE;
    committed bigint;
BEGIN
    SELECT * INTO the_lot FROM catalogue_lot WHERE id = NEW.lot_id FOR UPDATE;
    IF the_lot.organisation_id <> NEW.organisation_id
       OR the_lot.commodity_id <> NEW.commodity_id
       OR the_lot.grade_id <> NEW.grade_id THEN
        RAISE EXCEPTION 'listing % does not match the organisation, commodity and grade of lot %',
            NEW.id, NEW.lot_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'listing_matches_lot';
    END IF;
    SELECT COALESCE(SUM(CASE WHEN status IN ('active', 'paused') THEN quantity_offered_grams
                             ELSE quantity_reserved_grams + quantity_sold_grams END), 0)
      INTO committed
      FROM catalogue_listing
     WHERE lot_id = NEW.lot_id;
    IF committed > the_lot.quantity_grams THEN
        RAISE EXCEPTION 'the listings of lot % offer % g but the lot holds % g',
            NEW.lot_id, committed, the_lot.quantity_grams
            USING ERRCODE = 'check_violation', CONSTRAINT = 'listing_within_lot';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalogue_listing_within_lot_insert
    AFTER INSERT ON catalogue_listing
    FOR EACH ROW EXECUTE FUNCTION catalogue_listing_within_lot();
CREATE TRIGGER catalogue_listing_within_lot_update
    AFTER UPDATE ON catalogue_listing
    FOR EACH ROW
    WHEN (OLD.lot_id IS DISTINCT FROM NEW.lot_id
          OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id
          OR OLD.commodity_id IS DISTINCT FROM NEW.commodity_id
          OR OLD.grade_id IS DISTINCT FROM NEW.grade_id
          OR (CASE WHEN NEW.status IN ('active', 'paused') THEN NEW.quantity_offered_grams
                   ELSE NEW.quantity_reserved_grams + NEW.quantity_sold_grams END)
           > (CASE WHEN OLD.status IN ('active', 'paused') THEN OLD.quantity_offered_grams
                   ELSE OLD.quantity_reserved_grams + OLD.quantity_sold_grams END))
    EXECUTE FUNCTION catalogue_listing_within_lot();
"""

REVERSE = """
DROP TRIGGER IF EXISTS catalogue_listing_within_lot_update ON catalogue_listing;
DROP TRIGGER IF EXISTS catalogue_listing_within_lot_insert ON catalogue_listing;
DROP FUNCTION IF EXISTS catalogue_listing_within_lot();
DROP TRIGGER IF EXISTS catalogue_lotcontribution_balance ON catalogue_lotcontribution;
DROP TRIGGER IF EXISTS catalogue_lot_shares_balance ON catalogue_lot;
DROP FUNCTION IF EXISTS catalogue_lot_shares_balance();
DROP TRIGGER IF EXISTS catalogue_lot_fixed_contents ON catalogue_lot;
DROP TRIGGER IF EXISTS catalogue_lot_no_delete ON catalogue_lot;
DROP TRIGGER IF EXISTS catalogue_lotlineage_append_only ON catalogue_lotlineage;
DROP TRIGGER IF EXISTS catalogue_lotcontribution_append_only ON catalogue_lotcontribution;
DROP TRIGGER IF EXISTS catalogue_lotintake_append_only ON catalogue_lotintake;
DROP TRIGGER IF EXISTS catalogue_delivery_append_only ON catalogue_delivery;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0001_initial"),
        ("core", "0003_auditevent_append_only"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
