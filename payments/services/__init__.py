"""Writes for payments (house rule 1). The ledger is the base of every other service here."""
