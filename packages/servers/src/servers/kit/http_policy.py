"""Who may talk to a server over HTTP: the Host names it answers to, the browser origins that may
open its WebSockets or POST to it, and the token its figures ask for. Plain code; the ASGI side
is servers.kit.http_guard.

    http: {
      allowed_hosts: ["gateway.example", "*.desk.example"],   // besides the server's own names
      allowed_origins: ["https://dash.example"],               // besides the server's own origins
      figures_token: "…",        // /status, /metrics and the dashboard then need it
    }

Host (DNS rebinding): a request whose Host header names something other than the server gets
400. The server's own names are localhost, 127.0.0.1 and ::1, the address the connection came
in on, the configured listen host and the machine's host name; `allowed_hosts` adds names
(`*.example` for a domain's names, `*` for any). No Host header (HTTP/1.0 tools) is let through:
a browser always sends one.

Origin (cross-site WebSocket hijacking, cross-site POSTs): a WebSocket upgrade or a POST/PUT/
PATCH/DELETE whose Origin header is present and not allowed gets 403. Allowed are the server's
own origins (http or https, one of its names, its port or the port the Host header gives) and
`allowed_origins` (`*` for any, `null` for pages from files). Requests without Origin (tools,
notebooks) are unaffected.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from urllib.parse import urlsplit

from lib_common.config import Section

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

Server = tuple[str, int | None] | None  # the ASGI scope's "server": the local address and port


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()  # normalised: scheme://host[:port], "null" or "*"
    figures_token: str | None = None
    listen_host: str = "127.0.0.1"

    def own_names(self, server: Server) -> frozenset[str]:
        names = {*LOOPBACK_NAMES, _hostname()}
        if self.listen_host not in WILDCARD_BINDS:
            names.add(_bare(self.listen_host))
        if server is not None:
            names.add(_bare(server[0]))
        return frozenset(names)

    def host_name_allowed(self, name: str, server: Server) -> bool:
        return name in self.own_names(server) or any(fnmatchcase(name, pattern) for pattern in self.allowed_hosts)

    def host_allowed(self, host_header: str | None, server: Server) -> bool:
        """Whether a request with this Host header (None: none sent) is for this server."""
        if host_header is None:
            return True
        parsed = split_host(host_header)
        return parsed is not None and self.host_name_allowed(parsed[0], server)

    def origin_allowed(self, origin: str, host_header: str | None, server: Server) -> bool:
        """Whether a browser page from `origin` may open a WebSocket or POST here."""
        if "*" in self.allowed_origins:
            return True
        normal = normalise_origin(origin)
        if normal is None:
            return False
        if normal in self.allowed_origins:
            return True
        if normal == "null":
            return False
        parts = urlsplit(normal)
        scheme, name = parts.scheme, _bare(parts.hostname or "")
        port = parts.port or DEFAULT_PORTS[scheme]
        ports = {server[1]} if server is not None else set()
        host = split_host(host_header) if host_header is not None else None
        if host is not None:
            ports.add(host[1] or port)  # a Host without a port is on the scheme's default one
        return port in ports and self.host_name_allowed(name, server)

    def figures_allowed(self, token: str | None) -> bool:
        """Whether a request with this token may read /status, /metrics and the dashboard."""
        if self.figures_token is None:
            return True
        return token is not None and hmac.compare_digest(token.encode(), self.figures_token.encode())


@cache
def _hostname() -> str:
    return socket.gethostname().lower()


def _bare(name: str) -> str:
    """A host name compared as the policy compares them: lower case, no brackets, no final dot."""
    return name.strip("[]").rstrip(".").lower()


def split_host(host_header: str) -> tuple[str, int | None] | None:
    """A Host header's name and port (None: none given); None when it is not one."""
    try:
        parts = urlsplit(f"//{host_header.strip()}")
        name, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not name or parts.path or parts.query or parts.fragment or parts.username is not None:
        return None
    return _bare(name), port


def normalise_origin(origin: str) -> str | None:
    """`scheme://host[:port]` in lower case without the scheme's default port, `null`, or None
    when `origin` is neither."""
    text = origin.strip().lower()
    if text == "null":
        return text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username is not None:
        return None
    name = parts.hostname
    netloc = f"[{name}]" if ":" in name else name
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}"


def is_loopback(host: str) -> bool:
    """Whether a listen address is reachable only from this machine."""
    if _bare(host) == "localhost":
        return True
    try:
        return ipaddress.ip_address(_bare(host)).is_loopback
    except ValueError:
        return False


HTTP_KEYS = ("allowed_hosts", "allowed_origins", "figures_token")


def read_http(section: Section, listen_host: str) -> HttpPolicy:
    """The `http: {allowed_hosts, allowed_origins, figures_token}` section."""
    section.only(HTTP_KEYS)
    hosts = tuple(_bare(host) for host in section.optional_str_list("allowed_hosts") or ())
    origins: list[str] = []
    for i, origin in enumerate(section.optional_str_list("allowed_origins") or ()):
        normal = "*" if origin.strip() == "*" else normalise_origin(origin)
        if normal is None:
            section.problem(f"allowed_origins[{i}]", f"expected scheme://host[:port], null or *, found {origin!r}")
        else:
            origins.append(normal)
    token = section.optional_str("figures_token")
    if token == "":
        section.problem("figures_token", "expected a non-empty token, or leave the key out")
        token = None
    return HttpPolicy(hosts, tuple(origins), token, listen_host)
