"""servers.kit.http_policy: which Host headers and Origins a server takes, and its config."""

from __future__ import annotations

import pytest

from lib_common.config import parse_config
from lib_common.errors import ConfigErrors
from servers.kit.http_policy import HttpPolicy, normalise_origin, read_http

SERVER = ("127.0.0.1", 8765)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        (None, True),
        ("127.0.0.1:8765", True),
        ("LOCALHOST:8765", True),
        ("[::1]:8765", True),
        ("localhost.", True),
        ("evil.example", False),
        ("evil.example:8765", False),
        ("127.0.0.1.evil.example", False),
        ("127.0.0.1:8765/x", False),
        ("user@127.0.0.1", False),
        ("", False),
    ],
)
def test_host(host: str | None, allowed: bool) -> None:
    assert HttpPolicy().host_allowed(host, SERVER) is allowed


def test_own_address_listen_host_and_allowed_hosts() -> None:
    lan = HttpPolicy(listen_host="deskbox.lan", allowed_hosts=("*.desk.example",))
    assert lan.host_allowed("192.168.1.5:8765", ("192.168.1.5", 8765))  # the address it was reached on
    assert lan.host_allowed("deskbox.lan:8765", SERVER)
    assert lan.host_allowed("gw.desk.example", SERVER) and not lan.host_allowed("desk.example.evil", SERVER)
    assert HttpPolicy(allowed_hosts=("*",)).host_allowed("anything", SERVER)


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://127.0.0.1:8765", "127.0.0.1:8765", True),
        ("https://localhost:8765", "127.0.0.1:8765", True),
        ("http://[::1]:8765", "[::1]:8765", True),
        ("http://127.0.0.1:8766", "127.0.0.1:8765", False),
        ("http://evil.example", "127.0.0.1:8765", False),
        ("http://evil.example:8765", "127.0.0.1:8765", False),
        ("null", "127.0.0.1:8765", False),
        ("file://", "127.0.0.1:8765", False),
        ("http://127.0.0.1:8765/path", "127.0.0.1:8765", False),
        ("http://127.0.0.1", "127.0.0.1", True),  # behind a proxy on port 80
    ],
)
def test_origin_defaults_to_the_servers_own(origin: str, host: str, allowed: bool) -> None:
    assert HttpPolicy().origin_allowed(origin, host, SERVER) is allowed


def test_allowed_origins_add_to_the_own_ones() -> None:
    policy = HttpPolicy(allowed_origins=("https://dash.example", "null"))
    assert policy.origin_allowed("HTTPS://Dash.Example:443", "127.0.0.1:8765", SERVER)
    assert policy.origin_allowed("null", "127.0.0.1:8765", SERVER)
    assert not policy.origin_allowed("http://dash.example", "127.0.0.1:8765", SERVER)
    assert HttpPolicy(allowed_origins=("*",)).origin_allowed("http://evil.example", None, SERVER)
    assert normalise_origin("http://h:80") == "http://h" and normalise_origin("ftp://h") is None


def test_figures_token() -> None:
    assert HttpPolicy().figures_allowed(None)
    policy = HttpPolicy(figures_token="t")
    assert policy.figures_allowed("t") and not policy.figures_allowed("u") and not policy.figures_allowed(None)


def test_config_section_and_its_problems() -> None:
    def build(root):  # type: ignore[no-untyped-def]
        return read_http(root.section("http"), "0.0.0.0")

    policy = parse_config(
        "{http: {allowed_hosts: ['GW.example'], allowed_origins: ['https://Dash.example/'], figures_token: 't'}}",
        build,
        env={},
    )
    assert policy == HttpPolicy(("gw.example",), ("https://dash.example",), "t", "0.0.0.0")
    with pytest.raises(ConfigErrors) as caught:
        parse_config("{http: {allowed_origins: ['dash.example'], figures_token: '', x: 1}}", build, source="c", env={})
    assert [str(p) for p in caught.value.problems] == [
        "c:1:66: http.x: unknown key; expected one of allowed_hosts, allowed_origins, figures_token",
        "c:1:27: http.allowed_origins[0]: expected scheme://host[:port], null or *, found 'dash.example'",
        "c:1:59: http.figures_token: expected a non-empty token, or leave the key out",
    ]
