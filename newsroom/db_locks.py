"""Locks that let periodic commands run from cron on several servers at once.

On PostgreSQL `transaction_lock(name)` takes a transaction-level advisory lock without
waiting: True means this transaction holds it until it commits or rolls back, False that
another server's run holds it now. Other databases (SQLite: one server) always get True.
"""

import hashlib

from django.db import connections


def _lock_id(name):
    # pg advisory locks take a signed 64-bit number; derive a stable one from the name.
    return int.from_bytes(hashlib.blake2b(f"newsroom:{name}".encode(), digest_size=8).digest(), "big", signed=True)


def transaction_lock(name, using="default"):
    """Try to hold the lock `name` for the rest of the current transaction."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("transaction_lock() must be called inside transaction.atomic().")
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(name)])
        return bool(cursor.fetchone()[0])
