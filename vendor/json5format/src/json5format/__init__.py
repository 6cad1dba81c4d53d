"""json5format."""

__version__ = "0.1.0"
