"""The TLS certificate and key of a server, checked when the config is read and again at start.

`problem(cert, key)` says what keeps the pair from serving TLS, naming the file: missing or
unreadable, not PEM, an encrypted key, a key that does not match the certificate, or anything
else OpenSSL refuses. A config reader reports it as a config error at the `tls` key (exit 2,
one line) instead of uvicorn's traceback at start. `expiry_notice(cert, now)` is the warning a
server logs at start when the certificate has expired or expires within `EXPIRY_WARNING`.

cryptography is imported when a certificate is first read, not with this module: a server
without TLS starts ~0.1 s sooner (every restart after a crash waits for that start).
"""

from __future__ import annotations

import ssl
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes as PublicKey

EXPIRY_WARNING = timedelta(days=14)

Which = Literal["cert", "key"]


class TlsProblem(Exception):
    def __init__(self, which: Which, message: str) -> None:
        super().__init__(message)
        self.which: Which = which
        self.message = message


def _read(path: Path, which: Which) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TlsProblem(which, f"{path}: no such file") from None
    except OSError as exc:
        raise TlsProblem(which, f"{path}: cannot read: {exc.strerror or exc}") from None


def certificate(path: Path) -> x509.Certificate:
    """The first certificate of a PEM file (the server's own; the rest is its chain)."""
    from cryptography import x509

    data = _read(path, "cert")
    try:
        return x509.load_pem_x509_certificates(data)[0]
    except ValueError:
        raise TlsProblem("cert", f"{path}: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)") from None


def _spki(key: PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _public_key(path: Path) -> bytes:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    data = _read(path, "key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise TlsProblem("key", f"{path}: the key is encrypted; give an unencrypted PEM key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise TlsProblem("key", f"{path}: not a PEM private key (expected -----BEGIN PRIVATE KEY-----)") from None
    return _spki(key.public_key())


def check(cert: Path, key: Path) -> None:
    """TlsProblem when this certificate and key cannot serve TLS together."""
    own = certificate(cert)
    if _public_key(key) != _spki(own.public_key()):
        raise TlsProblem("key", f"{key}: does not match the certificate in {cert}")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise TlsProblem("cert", f"{cert}: OpenSSL refuses it with {key}: {exc.reason or exc}") from None


def problem(cert: Path, key: Path) -> TlsProblem | None:
    try:
        check(cert, key)
    except TlsProblem as exc:
        return exc
    return None


def expiry_notice(cert: Path, now: datetime) -> str | None:
    """What to warn about the certificate's end of validity at `now` (aware), if anything."""
    not_after = certificate(cert).not_valid_after_utc
    if not_after <= now:
        return f"TLS certificate {cert} expired on {not_after:%Y-%m-%d %H:%M} UTC; clients will refuse it"
    if not_after - now <= EXPIRY_WARNING:
        days = (not_after - now).days
        return f"TLS certificate {cert} expires on {not_after:%Y-%m-%d %H:%M} UTC, in {days} days; renew it"
    return None
