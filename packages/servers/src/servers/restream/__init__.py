"""restream: the WebSocket fan-out gateway. A `Gateway` (a kit FanoutServer) fed by one feed
(synthetic, Yahoo with polling fallback and CNN's Fear & Greed, or Redis on an edge node),
optionally publishing every frame to Redis; its client protocol in `endpoint`."""
