"""A free TCP port on loopback, for the servers the tests and benchmarks start (PostgreSQL, Ray, web servers)."""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
