"""Ports for the servers the tests start: gunicorn, nginx, Varnish, Redis, moto's S3, the CDN
recorder, the standby PostgreSQL.

Asking the system for a free port (bind to port 0, close, give the number to a server) leaves a
moment in which someone else may take it. With the suite split over pytest-xdist workers that
someone is likely: another worker asking the same way, or any outgoing connection, which draws
its local port from the same range the system hands out (Linux: 32768-60999). So each worker
takes ports from a block of its own below that range, starting at a random place in the block
(another test run on the machine uses the same blocks), and still checks that each port is free
(a benchmark, a message broker or a developer's server may be listening there).
"""

import os
import random
import socket

FIRST = 20000
BLOCK = 400  # ports per worker
BLOCKS = 30  # 20000-31999, below the system's range; a 31st worker shares the first block


def _worker_number():
    """0 for gw0 (and for a run without xdist), 1 for gw1, ..."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = name.removeprefix("gw")
    return int(digits) if digits.isdigit() else 0


def _candidates():
    start = FIRST + (_worker_number() % BLOCKS) * BLOCK
    offset = random.SystemRandom().randrange(BLOCK)  # whatever seed a test gave `random`
    while True:
        for step in range(BLOCK):
            yield start + (offset + step) % BLOCK


_ports = _candidates()


def free_port():
    """A port of 127.0.0.1 that nothing uses now and no other worker of this run will hand out."""
    for _ in range(BLOCK):
        port = next(_ports)
        with socket.socket() as probe:
            # No SO_REUSEADDR: a port still held by a closed connection (TIME_WAIT) counts as taken.
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port on 127.0.0.1 in {FIRST + (_worker_number() % BLOCKS) * BLOCK} + {BLOCK}")
