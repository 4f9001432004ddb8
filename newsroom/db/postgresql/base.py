"""PostgreSQL, as Django ships it, with a health check that costs no query when it need not.

With conn_health_checks on (settings.py), Django runs `SELECT 1` on a reused connection
before the first query of every request: a round trip to the server on each reader's
page. Here that query is skipped when the connection is known to be good:

- the driver has not marked it closed or broken;
- nothing went wrong on it since the last commit or rollback (errors_occurred);
- the server side is idle, no transaction left open or failed;
- its socket has nothing to read. An idle connection receives nothing from the server
  unless something happened to it: a backend ended by pg_terminate_backend, a server
  shutting down or restarting, or a crash sends an error and closes, or just closes. Either
  makes the socket readable, and a poll with no timeout sees it at once.

If any of these is false, or cannot be told, Django's own check runs (SELECT 1, reconnect
if it fails). What the poll cannot see is a connection cut without a word (a host gone
without closing its sockets, a firewall dropping an idle connection): SELECT 1 would have
failed there too, the request's first query fails instead, the page is a 503
(newsroom.middleware.DatabaseUnavailableMiddleware) and the connection is closed at the end
of that request. Everything else, the queries and how psycopg sends them, is Django's.
"""

import select

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import is_psycopg3

if is_psycopg3:
    from psycopg.pq import TransactionStatus

    IDLE = TransactionStatus.IDLE
else:
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE as IDLE


def _socket_is_quiet(fileno):
    """True when nothing is waiting to be read on the socket `fileno` (no wait at all)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fileno, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    readable, _, errored = select.select([fileno], [], [fileno], 0)
    return not readable and not errored


class DatabaseWrapper(base.DatabaseWrapper):
    def known_good(self):
        """Whether the open connection needs no SELECT 1 to be trusted (see the module)."""
        connection = self.connection
        if connection is None or self.errors_occurred:
            return False
        try:
            if connection.closed or getattr(connection, "broken", False):
                return False
            if connection.info.transaction_status != IDLE:
                return False
            return _socket_is_quiet(connection.fileno())
        except Exception:  # a driver that cannot say: let Django's check decide
            return False

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and self.known_good()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
