"""The Redis settings servers share: `--redis-url` on the command line, `redis_url` in configs."""

from __future__ import annotations

import argparse

from lib_common.config import Section
from lib_common.flags import Option
from lib_common.redis_bus.format import DEFAULT_REDIS_URL
from lib_common.redis_bus.urls import redis_url_problem


def redis_url(text: str) -> str:
    """argparse type of `--redis-url`."""
    problem = redis_url_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def redis_url_option(paths: str | tuple[str, ...], what: str, *, required: bool = False) -> Option:
    """`--redis-url`, checked as a Redis URL, setting the config `paths`; its help is `what` that
    Redis is for, then where a URL must come from (`required`) or the default."""
    where = "required here or in the config" if required else f"default {DEFAULT_REDIS_URL}"
    return Option("--redis-url", paths, f"{what} ({where})", type=redis_url)


def read_redis_url(section: Section, key: str) -> str | None:
    url = section.optional_str(key)
    if url is not None:
        problem = redis_url_problem(url)
        if problem is not None:
            section.problem(key, problem)
            return None
    return url
