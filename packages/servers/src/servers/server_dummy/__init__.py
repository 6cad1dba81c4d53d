"""server_dummy: a local stand-in for Yahoo's streamer and polling endpoints, with fault injection.

Yahoo's protocol on `/` (see docs in `protocol`), the chart and CNN Fear & Greed endpoints over
HTTP, and `POST /fault` to make the stream stall, close, abort or send malformed frames.
"""
