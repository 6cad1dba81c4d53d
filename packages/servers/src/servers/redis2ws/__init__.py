"""redis2ws: Redis pub/sub channels and patterns, bridged to WebSocket clients."""
