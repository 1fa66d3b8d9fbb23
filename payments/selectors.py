"""Reads for this app; every selector takes the viewer (house rule 2)."""
