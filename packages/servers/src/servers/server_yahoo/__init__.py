"""server_yahoo: the legacy proxy. Clients speak Yahoo's streamer protocol; one upstream."""
