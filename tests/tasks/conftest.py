"""Fixtures of the operations tests: a real redis-server (see tests/redis_server.py)."""

from tests.redis_server import redis_prefix, redis_url

__all__ = ["redis_prefix", "redis_url"]
