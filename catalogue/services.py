"""Writes for this app (house rule 1)."""
