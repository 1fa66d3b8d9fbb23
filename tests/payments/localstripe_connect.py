"""localstripe extended with the Connect calls it lacks, for the payments tests (run as a script).

    python tests/payments/localstripe_connect.py --port 8420

localstripe is an aiohttp app whose resources are `StripeObject` classes registered as routes; this plugin adds
resource classes for Express accounts, account links, transfers (with `source_transaction` and `transfer_group`)
and transfer reversals, lets PaymentIntents carry a `transfer_group`, and adds helper routes under /_config/ to
finish an account's onboarding and to open and close a card dispute. Each emits the event Stripe would
(account.updated, transfer.created, transfer.reversed, charge.dispute.created/closed), stored for /v1/events and
sent to any configured webhook. The store is pickled into the working directory, not /tmp, so each run is
isolated.

Two middlewares make it behave like Stripe where money safety depends on it:
- idempotency: a POST with an `Idempotency-Key` already seen returns the first (non-5xx) response again, with
  `Idempotent-Replayed: true`, and does nothing else (localstripe itself ignores the header);
- faults (configured with POST /_config/faults, cleared with DELETE /_config/faults): for the next `times` POSTs
  to a path starting with `path`, answer 500 (`mode=error500`) or 400 (a definite
  refusal, `mode=error400`) without doing anything, or do the work and
  then stall `seconds` before answering (`mode=stall`), so a client with a shorter timeout gives up on a call that
  took effect - a lost response, the case where the outcome is unknown.
"""

import argparse
import asyncio
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


@classmethod
def _pi_list_all(cls, url, created=None, limit=None, starting_after=None, **kwargs):
    """PaymentIntents newest first, with Stripe's `created` filter (localstripe lists them unfiltered)."""
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    li = StripeObject._api_list_all.__func__(cls, url, limit=limit, starting_after=starting_after)
    li._list = _created_filter(li._list, created)
    li._list.sort(key=lambda p: (p.created, p.id), reverse=True)
    return li


PaymentIntent._api_list_all = _pi_list_all


def _created_filter(items, created):
    """Stripe's `created` list filter: created[gt|gte|lt|lte]=<unix time>."""
    if not created:
        return items
    if not isinstance(created, dict):
        created = {"eq": created}
    checks = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__, "eq": int.__eq__}
    for op, value in created.items():
        if op not in checks:
            raise UserError(400, "Bad request: created")
        items = [item for item in items if checks[op](int(item.created), int(value))]
    return items


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
    def _api_list_all(cls, url, transfer_group=None, created=None, limit=None, starting_after=None, **kwargs):
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        li = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        if transfer_group is not None:
            li._list = [t for t in li._list if t.transfer_group == transfer_group]
        li._list = _created_filter(li._list, created)
        li._list.sort(key=lambda t: (t.created, t.id), reverse=True)
        return li

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


# --- Idempotency keys and injected faults ---------------------------------------------------------------------

REPLAYS: dict[str, tuple[int, bytes]] = {}
FAULTS: list[dict] = []


@web.middleware
async def faults_middleware(request, handler):
    fault = None
    if request.method == "POST" and not request.path.startswith("/_config/"):
        fault = next((f for f in FAULTS if f["times"] > 0 and request.path.startswith(f["path"])), None)
    if fault is None:
        return await handler(request)
    fault["times"] -= 1
    if fault["mode"] == "error400":
        return web.json_response(
            {"error": {"type": "invalid_request_error", "message": "Injected fault: refused"}}, status=400
        )
    if fault["mode"] == "error500":
        return web.json_response(
            {"error": {"type": "api_error", "message": "Injected fault: internal error"}}, status=500
        )
    response = await handler(request)
    await asyncio.sleep(fault["seconds"])
    return response


@web.middleware
async def idempotency_middleware(request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or request.path.startswith("/_config/"):
        return await handler(request)
    key = f"{request.path}:{key}"
    if key in REPLAYS:
        status, body = REPLAYS[key]
        return web.Response(
            status=status, body=body, content_type="application/json", headers={"Idempotent-Replayed": "true"}
        )
    try:
        response = await handler(request)
    except UserError as error:
        response = error.to_response()
    if response.status < 500:
        REPLAYS[key] = (response.status, response.body)
    return response


async def _faults_set(request):
    data = await request.post()
    FAULTS.append({
        "path": data["path"], "mode": data.get("mode", "stall"), "times": int(data.get("times", 1)),
        "seconds": float(data.get("seconds", 3)),
    })  # fmt: skip
    return web.json_response({"faults": FAULTS})


async def _faults_clear(request):
    FAULTS.clear()
    return web.json_response({"faults": FAULTS})


def install(app: web.Application) -> None:
    app.middlewares.insert(0, faults_middleware)
    app.middlewares.insert(2, idempotency_middleware)  # after localstripe's error middleware
    app.router.add_route("POST", "/_config/faults", _faults_set)
    app.router.add_route("DELETE", "/_config/faults", _faults_clear)
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
