"""server_yahoo: the legacy proxy. Clients speak Yahoo's streamer protocol; a `Proxy` (a kit
FanoutServer) keeps one upstream subscription per symbol and relays the frames unchanged."""
