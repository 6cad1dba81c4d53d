"""Reading a document from a file with a bound on its size.

A configuration file is untrusted bytes like any other: a reader that slurps whatever the path
holds can be made to spend minutes and gigabytes on one (a 100 MB "config" took 46 s and
3.4 GB). `read_document` reads at most `max_bytes` + 1 bytes, so the bound costs nothing for
the files it lets through.
"""

from __future__ import annotations

from pathlib import Path

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024  # far above any real configuration, far below harm


class DocumentTooLarge(ValueError):
    """The file holds more than the reader's bound."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit:,} bytes: not read")
        self.limit = limit


def read_document(path: str | Path, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """The UTF-8 text of the file at `path` (a leading BOM dropped). Raises OSError when it cannot
    be read, UnicodeDecodeError when it is not UTF-8 and DocumentTooLarge past `max_bytes`."""
    with open(path, "rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DocumentTooLarge(max_bytes)
    return data.decode("utf-8-sig")
