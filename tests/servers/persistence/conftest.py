"""Fixtures for the durable consumers' tests: launchers, unique shared names, private services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers.conftest import Launcher
from tests.servers.persistence.services import PrivatePgBouncer, PrivatePostgres, PrivateRedis, shared_names


def _launcher_fixture(module: str) -> Callable[[Path, tuple[str, str]], Iterator[Launcher]]:
    @pytest.fixture
    def fixture(tmp_path: Path, names: tuple[str, str]) -> Iterator[Launcher]:
        # `names` first in, last out: its keys are removed after the servers have stopped, so
        # none of them can make its stream again (XGROUP CREATE ... MKSTREAM) after the cleanup.
        with Launcher(tmp_path, module) as launcher:
            yield launcher

    return fixture


start_server_sql = _launcher_fixture("servers.server_sql")
start_server_log = _launcher_fixture("servers.server_log")


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(redis key prefix, table name), unique to this test, cleaned up after it."""
    with shared_names(request.node.name.replace("[", "_").replace("]", "").replace("-", "_").lower()[5:25]) as n:
        yield n


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    pg.start()
    yield pg
    pg.close()


@pytest.fixture
def pgbouncer() -> Iterator[PrivatePgBouncer]:
    bouncer = PrivatePgBouncer()
    yield bouncer
    bouncer.close()


@pytest.fixture
def private_redis_factory() -> Iterator[type[PrivateRedis]]:
    made: list[PrivateRedis] = []

    class Tracked(PrivateRedis):
        def __init__(self, persistent: bool) -> None:
            super().__init__(persistent)
            made.append(self)

    yield Tracked
    for instance in made:
        instance.close()


from tests.redis_cluster import own_redis_cluster, redis_cluster  # noqa: E402, F401  (fixtures)
