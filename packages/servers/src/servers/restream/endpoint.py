"""What restream's client requests mean (servers.kit.session runs the connection)."""

from __future__ import annotations

from lib_common.core.client_messages import Ping, Subscribe, parse_client_message
from lib_common.core.frame import Frame
from lib_common.core.session import ClientSession
from servers.kit.config import Tenant
from servers.kit.session import send_error
from servers.restream.gateway import Gateway


def handle(gateway: Gateway, tenant: Tenant, session: ClientSession, text: str) -> None:
    """One text message: a reply, errors, or a (un)subscription, all through the dispatcher
    (a ProtocolError: the message is not one restream takes)."""
    limits = gateway.config.limits
    dispatcher = gateway.dispatcher
    request = parse_client_message(text, max_bytes=limits.max_message_bytes, max_symbols=limits.max_per_message)
    if isinstance(request, Ping):
        dispatcher.send(session, Frame.control({"type": "pong"}))
        return
    for _, reason in request.invalid:
        send_error(dispatcher, session, "bad_symbols", reason)
    if not request.symbols:
        return
    if isinstance(request, Subscribe):
        added, refused = gateway.subscribe_client(session, tenant, request.symbols)
        for symbol, reason in refused.items():
            send_error(dispatcher, session, "symbol_refused", f"{symbol}: {reason}")
        accepted = [s for s in request.symbols if s not in refused]
        if accepted:
            dispatcher.send(session, Frame.control({"type": "subscribed", "symbols": accepted}))
            gateway.fanout.snapshot(session, added)
    else:
        removed = gateway.registry.unsubscribe(session, request.symbols)
        dispatcher.send(session, Frame.control({"type": "unsubscribed", "symbols": removed}))
