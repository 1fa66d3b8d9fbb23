"""Per-organisation data versions, for caches of an organisation's own figures (the market's dashboard).

An organisation's version is a random token in Django's cache. A change to the organisation's orders, money, stock,
deliveries, payouts or members calls `organisation_changed` inside its transaction; after the commit the token is
replaced, so a cache entry keyed by the old token is never read again (nothing is deleted; old entries expire).
`audit_record` calls it for the organisation it records and the owners of its subject (house rule 8: every change
of money or status leaves an audit record), and the ledger for the owners of the accounts a posting moves.

Why after the commit: a reader that took the new token before the commit could cache figures read without the
change under it. Taken after the commit, a reader with the new token reads the committed change; a reader with the
old token may cache either, under a key nobody reads once the token is replaced.
Why a random token and not a counter: if the cache loses a version key, a counter restarting from 0 could meet an
old entry again; a new random token never does.
"""

import logging
import secrets

from django.core.cache import cache
from django.db import connection, transaction

VERSION_KEY = "org-version:{}"
logger = logging.getLogger(__name__)


def organisation_version(organisation_id: int) -> str:
    """The organisation's current version token (a new one if the cache has none)."""
    key = VERSION_KEY.format(organisation_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, secrets.token_hex(8), timeout=None)
        version = cache.get(key)
    return version


def organisation_changed(*organisation_ids: int | None) -> None:
    """Replace the versions of these organisations once the current transaction commits (at once outside one)."""
    ids = {pk for pk in organisation_ids if pk}
    if not ids:
        return
    if not connection.in_atomic_block:
        _replace_pending_now(ids)
        return
    # The ids wait in the connection's set; the first hook to run after a commit replaces them all in one round
    # trip, the others find the set empty. (One hook per call: a hook registered once per transaction would be
    # dropped with a savepoint that rolls back.) Ids of a transaction that rolled back are replaced by the next
    # commit's hook: a needless new version, never a missed one.
    pending = getattr(connection, "_organisation_changes", None)
    if pending is None:
        pending = connection._organisation_changes = set()
    pending |= ids
    # robust: the change is committed; a cache that cannot be reached must not turn it into an error.
    transaction.on_commit(_replace_pending, robust=True)


def _replace_pending_now(ids: set[int]) -> None:
    try:
        _replace(ids)
    except Exception:  # the change is committed (autocommit): as a robust on-commit hook, log and go on
        logger.exception("Could not replace the data versions of organisations %s", sorted(ids))


def _replace_pending() -> None:
    pending = getattr(connection, "_organisation_changes", None)
    if pending:
        ids = set(pending)
        pending.clear()
        _replace(ids)


def _replace(ids: set[int]) -> None:
    token = secrets.token_hex(8)
    cache.set_many({VERSION_KEY.format(pk): token for pk in ids}, timeout=None)
