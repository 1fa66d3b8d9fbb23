"""Writes for the catalogue (house rule 1). Every write is a keyword-only service taking the acting user."""

from catalogue.services.deliveries import delivery_receipt_sms_send, delivery_record, delivery_reverse
from catalogue.services.eudr import order_statement_reference_add
from catalogue.services.listings import (
    LISTING_TRANSITIONS,
    listing_commit_sale,
    listing_create,
    listing_release,
    listing_reserve,
    listing_status_transition,
    listing_update,
)
from catalogue.services.lots import (
    LOT_TRANSITIONS,
    lot_bulk,
    lot_merge,
    lot_move,
    lot_split,
    lot_status_transition,
    split_shares,
)
from catalogue.services.offers import (
    OFFER_TRANSITIONS,
    RegionInput,
    TierInput,
    check_tiers,
    input_product_create,
    supplier_offer_create,
    supplier_offer_return_stock,
    supplier_offer_status_transition,
    supplier_offer_take_stock,
    supplier_offer_update,
)
from catalogue.services.reference import (
    certification_create,
    collection_point_create,
    location_create,
    location_update,
    organisation_code_set,
    trace_settings_update,
)

__all__ = [
    "LISTING_TRANSITIONS",
    "LOT_TRANSITIONS",
    "OFFER_TRANSITIONS",
    "RegionInput",
    "TierInput",
    "certification_create",
    "check_tiers",
    "collection_point_create",
    "delivery_receipt_sms_send",
    "delivery_record",
    "delivery_reverse",
    "input_product_create",
    "listing_commit_sale",
    "listing_create",
    "listing_release",
    "listing_reserve",
    "listing_status_transition",
    "listing_update",
    "location_create",
    "location_update",
    "lot_bulk",
    "lot_merge",
    "lot_move",
    "lot_split",
    "lot_status_transition",
    "order_statement_reference_add",
    "organisation_code_set",
    "split_shares",
    "supplier_offer_create",
    "supplier_offer_return_stock",
    "supplier_offer_status_transition",
    "supplier_offer_take_stock",
    "supplier_offer_update",
    "trace_settings_update",
]
