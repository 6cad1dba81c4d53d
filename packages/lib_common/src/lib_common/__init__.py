"""rsdev core library: the gateway's plain policy code and its ingestors."""

__version__ = "0.1.0"
