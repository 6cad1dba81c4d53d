"""Gateway policy without a server: admission, subscription rules, snapshots, figures."""

from __future__ import annotations

from dataclasses import replace

from lib_common.clock import ManualClock
from lib_common.core.session import ClientSession
from servers.kit.config import ClientLimits, Tenant
from servers.restream.config import FeedConfig, RestreamConfig
from servers.restream.gateway import Gateway
from tests.lib_common.core.test_dispatcher import FakeEgress


def gateway(**overrides: object) -> Gateway:
    return Gateway(replace(RestreamConfig(), **overrides), clock=ManualClock(), defer=lambda callback: None)  # type: ignore[arg-type]


def session(gw: Gateway) -> tuple[ClientSession, FakeEgress]:
    egress = FakeEgress()
    s = ClientSession(egress)
    gw.dispatcher.attach(s)
    return s, egress


def test_per_client_symbol_limit_counts_held_symbols() -> None:
    gw = gateway(limits=ClientLimits(max_per_client=3))
    s, _ = session(gw)
    tenant = Tenant("t", "x")
    assert gw.subscribe_client(s, tenant, ("A", "B")) == (["A", "B"], {})
    added, refused = gw.subscribe_client(s, tenant, ("A", "C", "D"))
    assert added == ["C"]
    assert refused == {"D": "limit of 3 symbols per client"}


def test_tenant_patterns_and_fixed_feed() -> None:
    gw = gateway(feed=FeedConfig(symbols=("BTC-USD", "AAPL")))
    s, _ = session(gw)
    crypto = Tenant("c", "x", grants=("*-USD",))
    added, refused = gw.subscribe_client(s, crypto, ("BTC-USD", "AAPL", "ETH-USD"))
    assert added == ["BTC-USD"]
    assert refused == {"AAPL": "not allowed for this tenant", "ETH-USD": "not served by this feed"}


def test_admission_limit_per_tenant() -> None:
    """The admission every client session passes (kit.session.serve_client uses the server's)."""
    gw = gateway()
    tenant, other = Tenant("t", "x", max_connections=1), Tenant("u", "y", max_connections=1)
    assert gw.admission.admit(tenant) and not gw.admission.admit(tenant)
    assert gw.admission.admit(other)
    gw.admission.leave(tenant)
    assert gw.admission.admit(tenant)
    assert gw.status()["clients"] == {"connected": 0, "by_tenant": {"t": 1, "u": 1}}
    assert 'restream_tenant_clients{tenant="t"} 1' in gw.metrics()


def test_snapshot_and_upstream_follow_the_registry() -> None:
    gw = gateway(linger_s=0.0)
    s, egress = session(gw)
    gw.subscribe_client(s, Tenant("t", "x"), ("AAPL",))
    assert gw.feed.active == frozenset({"AAPL"})
    gw.dispatcher.publish(gw.feed.tick())
    gw.dispatcher.flush()
    s2, egress2 = session(gw)
    gw.subscribe_client(s2, Tenant("t", "x"), ("AAPL",))
    gw.fanout.snapshot(s2, ["AAPL"])
    gw.dispatcher.flush()
    assert egress2.messages() == egress.messages()
    gw.dispatcher.detach(s)
    gw.dispatcher.detach(s2)
    assert gw.feed.active == frozenset() and "AAPL" not in gw.dispatcher.latest
    upstream = gw.status()["upstream"]
    assert isinstance(upstream, dict)
    assert (upstream["feed"], upstream["state"], upstream["subscribes"], upstream["unsubscribes"]) == (
        "synthetic",
        "idle",
        1,
        1,
    )
    assert "restream_upstream_unsubscribes_total 1" in gw.metrics()
