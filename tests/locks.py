"""Whether a row is locked, seen from another connection (for tests of house rule 4: no lock held while a provider
is called)."""

import threading

from django.db import DatabaseError, connection, transaction


def locked_elsewhere(model, pk: int) -> bool:
    """True when another connection cannot lock the row at once (SELECT ... FOR UPDATE NOWAIT fails)."""
    outcome: list[bool] = []

    def probe():
        try:
            with transaction.atomic():
                model.objects.select_for_update(nowait=True).get(pk=pk)
            outcome.append(False)
        except DatabaseError:
            outcome.append(True)
        finally:
            connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(timeout=30)
    return outcome[0]
