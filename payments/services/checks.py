"""The ledger check as a stored run: the nightly task checks what changed since the last run (with an hour of
overlap, for transactions that committed late) and stores the result, which the operator's ledger page shows
instead of rerunning the whole check on every view. A full rescan (the `ledger_check` command's default, and the
nightly task once a week) checks everything."""

from datetime import timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from marketplace.core.selectors import check_run_last
from marketplace.core.services import check_run_record
from payments.selectors import ledger_problems

CHECK_NAME = "ledger"
OVERLAP = timedelta(hours=1)


def ledger_check_run(*, full: bool = False) -> list[str]:
    """Check the ledger (what changed since the last stored run, or everything with `full` or when no run was
    stored), store the result and return the problems. While a run finds problems its checkpoint does not move,
    so the next incremental run looks at them again and the stored result keeps naming them."""
    last = None if full else check_run_last(name=CHECK_NAME)
    since = parse_datetime(last.checkpoint["at"]) if last is not None and last.checkpoint.get("at") else None
    started = timezone.now()
    problems = ledger_problems(since=since - OVERLAP if since else None)
    checkpoint = {"at": started.isoformat()} if not problems else (last.checkpoint if last is not None else {})
    check_run_record(
        name=CHECK_NAME,
        full=since is None,
        checkpoint=checkpoint,
        problems=problems,
        checked={"since": since.isoformat() if since else None},
    )
    return problems
