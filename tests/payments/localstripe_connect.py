"""localstripe extended with the Connect calls it lacks, for the payments tests (run as a script).

    python tests/payments/localstripe_connect.py --port 8420

localstripe is an aiohttp app whose resources are `StripeObject` classes registered as routes; this plugin adds
resource classes for Express accounts, account links, transfers (with `source_transaction` and `transfer_group`)
and transfer reversals, lets PaymentIntents carry a `transfer_group`, and adds helper routes under /_config/ to
finish an account's onboarding and to open and close a card dispute. Each emits the event Stripe would
(account.updated, transfer.created, transfer.reversed, charge.dispute.created/closed), stored for /v1/events and
sent to any configured webhook. The store is pickled into the working directory, not /tmp, so each run is
isolated. localstripe ignores idempotency keys; our own tests cover idempotency.
"""

import argparse
import os
import pickle

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.resources import Charge, Event, PaymentIntent, StripeObject, store, try_convert_to_int
from localstripe.webhooks import schedule_webhook

STORE_FILE = os.path.join(os.getcwd(), "localstripe.pickle")


def _dump(self):
    with open(STORE_FILE, "wb") as f:
        pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)


resources.Store.dump_to_disk = _dump
resources.Store.try_load_from_disk = lambda self: None


# --- PaymentIntents carry a transfer group (and a description) ------------------------------------------------

_original_pi_init = PaymentIntent.__init__


def _pi_init(self, transfer_group=None, description=None, **kwargs):
    _original_pi_init(self, **kwargs)
    self.transfer_group = transfer_group
    self.description = description


PaymentIntent.__init__ = _pi_init


def _emit(kind, obj):
    schedule_webhook(Event(kind, obj))


# --- Connect ---------------------------------------------------------------------------------------------------


class Account(StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(self, type=None, country=None, email=None, capabilities=None, business_profile=None, metadata=None,
                 **kwargs):  # fmt: skip
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        if type not in ("express", "standard", "custom"):
            raise UserError(400, "Bad request: type")
        super().__init__()
        self.type = type
        self.country = country
        self.email = email
        self.capabilities = dict.fromkeys(capabilities or {}, "inactive")
        self.business_profile = business_profile or {}
        self.metadata = metadata or {}
        self.details_submitted = False
        self.payouts_enabled = False
        self.charges_enabled = False

    def _complete(self):
        self.details_submitted = self.payouts_enabled = self.charges_enabled = True
        self.capabilities = dict.fromkeys(self.capabilities, "active")
        store[self.object + ":" + self.id] = self  # persist
        _emit("account.updated", self)
        return self


class AccountLink(StripeObject):
    object = "account_link"
    _id_prefix = "acctlink_"

    def __init__(self, account=None, refresh_url=None, return_url=None, type=None, **kwargs):
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        Account._api_retrieve(account)
        if type != "account_onboarding" or not refresh_url or not return_url:
            raise UserError(400, "Bad request")
        super().__init__()
        self.account = account
        self.url = f"https://connect.localstripe.test/setup/{account}"
        self.expires_at = self.created + 300


class Transfer(StripeObject):
    object = "transfer"
    _id_prefix = "tr_"

    def __init__(self, amount=None, currency=None, destination=None, source_transaction=None, transfer_group=None,
                 description=None, metadata=None, **kwargs):  # fmt: skip
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        amount = try_convert_to_int(amount)
        if type(amount) is not int or amount <= 0 or not currency:
            raise UserError(400, "Bad request: amount and currency")
        Account._api_retrieve(destination)
        if source_transaction is not None:
            charge = Charge._api_retrieve(source_transaction)
            if charge.currency != currency:
                raise UserError(400, "The currency must be the source transaction's")
            already = sum(
                t.amount for key, t in store.items()
                if key.startswith("transfer:") and t.source_transaction == source_transaction
            )  # fmt: skip
            if already + amount > charge.amount - charge.amount_refunded:
                raise UserError(400, "Insufficient funds in the source transaction")
        super().__init__()
        self.amount = amount
        self.currency = currency
        self.destination = destination
        self.source_transaction = source_transaction
        self.transfer_group = transfer_group
        self.description = description
        self.metadata = metadata or {}
        self.amount_reversed = 0
        self.reversed = False
        _emit("transfer.created", self)

    @classmethod
    def _api_reverse(cls, id, amount=None, metadata=None, description=None, **kwargs):
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        transfer = cls._api_retrieve(id)
        amount = transfer.amount - transfer.amount_reversed if amount is None else try_convert_to_int(amount)
        if type(amount) is not int or not 0 < amount <= transfer.amount - transfer.amount_reversed:
            raise UserError(400, "The reversal is more than what is left of the transfer")
        reversal = TransferReversal(transfer=transfer.id, amount=amount, currency=transfer.currency,
                                    metadata=metadata)  # fmt: skip
        transfer.amount_reversed += amount
        transfer.reversed = transfer.amount_reversed == transfer.amount
        store[transfer.object + ":" + transfer.id] = transfer
        _emit("transfer.reversed", transfer)
        return reversal


class TransferReversal(StripeObject):
    object = "transfer_reversal"
    _id_prefix = "trr_"

    def __init__(self, transfer=None, amount=None, currency=None, metadata=None):
        super().__init__()
        self.transfer = transfer
        self.amount = amount
        self.currency = currency
        self.metadata = metadata or {}


class Dispute(StripeObject):
    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge=None, amount=None, reason="fraudulent", **kwargs):
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        charge_obj = Charge._api_retrieve(charge)
        super().__init__()
        self.charge = charge
        self.payment_intent = charge_obj.payment_intent
        self.amount = try_convert_to_int(amount) if amount is not None else charge_obj.amount
        self.currency = charge_obj.currency
        self.reason = reason
        self.status = "needs_response"
        _emit("charge.dispute.created", self)

    @classmethod
    def _api_close(cls, id, status="lost", **kwargs):
        dispute = cls._api_retrieve(id)
        if status not in ("won", "lost"):
            raise UserError(400, "status is won or lost")
        dispute.status = status
        store[dispute.object + ":" + dispute.id] = dispute
        _emit("charge.dispute.closed", dispute)
        return dispute


def _complete_account(id, **kwargs):
    return Account._api_retrieve(id)._complete()


def install(app: web.Application) -> None:
    for cls in (Account, AccountLink, Transfer, Dispute):
        url = "/v1/" + cls.object + "s"
        app.router.add_route("POST", url, server.api_create(cls, url))
        app.router.add_route("GET", url + "/{id}", server.api_retrieve(cls, url))
        app.router.add_route("GET", url, server.api_list_all(cls, url))
    app.router.add_route("POST", "/v1/transfers/{id}/reversals", server.api_extra(Transfer._api_reverse, ""))
    app.router.add_route("POST", "/_config/accounts/{id}/complete", server.api_extra(_complete_account, ""))
    app.router.add_route("POST", "/_config/disputes", server.api_create(Dispute, "/v1/disputes"))
    app.router.add_route("POST", "/_config/disputes/{id}/close", server.api_extra(Dispute._api_close, ""))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    install(server.app)
    web.run_app(server.app, host="127.0.0.1", port=args.port, print=None)
