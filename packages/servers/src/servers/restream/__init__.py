"""restream: the WebSocket fan-out gateway."""
