"""The Redis settings servers share: `--redis-url` on the command line, `redis_url` in configs."""

from __future__ import annotations

import argparse

from lib_common.config import Section
from lib_common.redis_bus.urls import redis_url_problem


def redis_url(text: str) -> str:
    """argparse type of `--redis-url`."""
    problem = redis_url_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def read_redis_url(section: Section, key: str) -> str | None:
    url = section.optional_str(key)
    if url is not None:
        problem = redis_url_problem(url)
        if problem is not None:
            section.problem(key, problem)
            return None
    return url
