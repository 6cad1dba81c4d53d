"""rsdev servers: restream and the services around it."""

__version__ = "0.1.0"
