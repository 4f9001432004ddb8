"""bench/run.py's servers: a port something else answers on is refused, not measured."""

import socket

import pytest

from bench import run


class Options:
    workers = 1
    worker_class = "sync"


def test_a_server_refuses_a_port_something_else_answers_on():
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        server = run.Server("bench.floor:application", port, {}, Options())
        with pytest.raises(RuntimeError, match=f"port {port} on 127.0.0.1 is already in use"):
            server.start()
        assert server.process is None  # nothing was started
