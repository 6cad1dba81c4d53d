"""Moved to servers.kit.egress; this name stays while durable/cli.py imports it."""

from servers.kit.egress import GatewayProtocol as GatewayProtocol
