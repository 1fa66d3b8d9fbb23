"""The PIN hasher: Django's PBKDF2 (SHA-256) with its own iteration count.

A 4-digit PIN has 10,000 values, so no iteration count makes a stolen hash safe; the lock-out after 5 wrong tries is
what protects it. The password default (1,000,000 iterations) cost about a second of CPU per USSD screen that checks a
PIN, which broke the 2 s budget on a loaded machine; 100,000 keeps a check near 0.1 s. Stored hashes carry their own
algorithm name and iteration count, so changing the count later only affects new PINs.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class PinHasher(PBKDF2PasswordHasher):
    algorithm = "pin_pbkdf2_sha256"
    iterations = 100_000


PIN_HASHER = PinHasher()
