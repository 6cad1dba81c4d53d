"""Ingestors: sources of normalised quotes."""
