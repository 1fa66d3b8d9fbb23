"""Member payouts: batches, lines and statements."""
