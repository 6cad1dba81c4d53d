"""The process base and the config pieces, without a server: tenants, uptime, shared figures."""

from __future__ import annotations

import asyncio

from lib_common.clock import ManualClock
from servers.kit.config import OPEN_TENANT, GatewayConfig, Tenant, find_tenant
from servers.kit.process import FanoutServer


class Upstream:
    def __init__(self) -> None:
        self.subscribed: list[str] = []

    def subscribe(self, symbols: list[str]) -> None:
        self.subscribed += symbols

    def unsubscribe(self, symbols: list[str]) -> None:
        self.subscribed = [s for s in self.subscribed if s not in symbols]


class Server(FanoutServer[GatewayConfig]):
    name = "test"


def test_find_tenant_open_without_tenants_and_none_for_a_bad_token() -> None:
    desk = Tenant("desk", "s3cret", grants=("BTC-*",))
    assert find_tenant((), None) is OPEN_TENANT
    assert find_tenant((desk,), "s3cret") is desk
    assert find_tenant((desk,), "wrong") is None and find_tenant((desk,), None) is None
    assert desk.allows("BTC-USD") and not desk.allows("AAPL")


def test_uptime_is_the_injected_clock_s_since_start() -> None:
    clock = ManualClock()
    server = Server(GatewayConfig(), Upstream(), clock=clock, defer=lambda callback: None)
    assert server.uptime_s == 0.0
    asyncio.run(server.start())
    clock.advance(12.5)
    assert server.uptime_s == 12.5 and server.status()["uptime_s"] == 12.5
    assert server.health() == {"status": "ok"}
    asyncio.run(server.stop())
    assert server.health() == {"status": "starting"} and not server.serving


def test_shared_figures() -> None:
    server = Server(GatewayConfig(), Upstream(), clock=ManualClock(), defer=lambda callback: None)
    server.admission.admit(OPEN_TENANT)
    status = server.status()
    assert status["clients"] == {"connected": 0, "by_tenant": {"anonymous": 1}}
    assert set(status) >= {"uptime_s", "symbols", "frames", "memory_guard", "upstream_subscriptions"}
    metrics = server.metrics()
    assert 'test_tenant_clients{tenant="anonymous"} 1' in metrics and "test_frames_in_total 0" in metrics
