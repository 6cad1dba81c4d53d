"""rsdev_misc."""

__version__ = "0.1.0"
