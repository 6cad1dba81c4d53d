"""redis2ws: Redis pub/sub channels and patterns, bridged to WebSocket clients. A `Bridge` (a kit
FanoutServer) whose registry keys are channels and patterns; its client protocol in `protocol`."""
