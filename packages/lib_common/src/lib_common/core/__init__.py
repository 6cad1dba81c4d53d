"""The gateway's policy code: no sockets, time injected."""
