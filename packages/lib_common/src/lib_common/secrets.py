"""Encrypted config values: self-describing tokens, AES-256-GCM, bound to their config key path.

A token reads ``rsdev:v1:KDF:PARAMS:SALT:NONCE:CIPHERTEXT`` (base64url without padding):

- KDF ``hkdf`` (PARAMS ``sha256``) when the master key is 32 random bytes: HKDF-SHA256 with the
  token's salt turns it into a fresh AES key per token;
- KDF ``scrypt`` (PARAMS ``n=32768,r=8,p=1``) when the master key is a passphrase.

The associated data of the AES-GCM seal is the token's header (everything before the ciphertext)
and the config key path (``tenants[0].token``), so changing a parameter, or moving a token to
another key, makes it fail to decrypt exactly like a wrong key or an altered byte: fail closed.

The master key comes from ``RSDEV_MASTER_KEY`` (base64 of 32 bytes) or from the file named by
``RSDEV_KEY_FILE`` (the same base64, or a line ``passphrase:...``), which must not be readable by
group or others; never from the command line. See docs/secrets.md.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from lib_common.errors import SecretError

PREFIX = "rsdev:"
VERSION = "v1"
KEY_ENV = "RSDEV_MASTER_KEY"
KEY_FILE_ENV = "RSDEV_KEY_FILE"
PASSPHRASE_PREFIX = "passphrase:"

KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
# Bounds on what a token may ask of scrypt: a crafted token must not cost gigabytes to reject.
_SCRYPT_MAX_N = 2**20
_SCRYPT_MAX_R = 32
_SCRYPT_MAX_P = 16
_MIN_PASSPHRASE = 12
_HKDF_INFO = b"rsdev token v1"
_SCRYPT_PARAMS = re.compile(r"n=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3})\Z")


@dataclass(frozen=True, slots=True)
class MasterKey:
    """Secret material: 32 random bytes, or a passphrase (`is_passphrase`); `origin` for errors."""

    material: bytes
    is_passphrase: bool = False
    origin: str = "<key>"

    def __repr__(self) -> str:
        return f"MasterKey(origin={self.origin!r}, is_passphrase={self.is_passphrase})"


def generate_key() -> str:
    """A new master key: base64 of 32 random bytes."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def key_from_base64(text: str, origin: str) -> MasterKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretError(f"{origin}: expected base64 of {KEY_BYTES} bytes, found text that is not base64") from None
    if len(raw) != KEY_BYTES:
        raise SecretError(f"{origin}: expected base64 of {KEY_BYTES} bytes, found {len(raw)} bytes")
    return MasterKey(raw, False, origin)


def read_key_file(path: str | Path) -> MasterKey:
    """A key file: base64 of 32 bytes, or `passphrase:TEXT`; refused unless only its owner can read it."""
    origin = str(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SecretError(f"{origin}: cannot read key file: {exc.strerror or exc}") from None
    # Windows has no POSIX modes; its ACLs are the administrator's business.
    if os.name == "posix" and info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise SecretError(
            f"{origin}: key file is readable or writable by group or others (mode {mode:04o}); run `chmod 600 {origin}`"
        )
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"{origin}: cannot read key file: {exc}") from None
    if text.startswith(PASSPHRASE_PREFIX):
        passphrase = text[len(PASSPHRASE_PREFIX) :]
        if len(passphrase) < _MIN_PASSPHRASE:
            raise SecretError(f"{origin}: passphrase too short: expected at least {_MIN_PASSPHRASE} characters")
        return MasterKey(passphrase.encode("utf-8"), True, origin)
    return key_from_base64(text, origin)


def load_master_key(env: Mapping[str, str] | None = None) -> MasterKey:
    """The master key from `RSDEV_MASTER_KEY`, else from the file named by `RSDEV_KEY_FILE`."""
    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        return key_from_base64(env[KEY_ENV], KEY_ENV)
    if env.get(KEY_FILE_ENV):
        return read_key_file(env[KEY_FILE_ENV])
    raise SecretError(f"no master key: set {KEY_ENV} (base64 of {KEY_BYTES} bytes) or {KEY_FILE_ENV} (a 0600 file)")


# A token is recognised by its versioned header, so that plain config strings that merely start
# with "rsdev:" (Redis keys and channel prefixes do) are left alone; an unknown version is still
# a token, and fails closed when decrypted.
_TOKEN_HEAD = re.compile(r"rsdev:v\d+:")


def is_token(value: object) -> bool:
    return isinstance(value, str) and _TOKEN_HEAD.match(value) is not None


def encrypt(value: str, key: MasterKey, aad: str = "", *, scrypt_n: int = SCRYPT_N) -> str:
    """Seal `value` into a token that only decrypts with `key` under the same `aad` (config key path)."""
    salt = os.urandom(SALT_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    if key.is_passphrase:
        kdf, params = "scrypt", f"n={scrypt_n},r={SCRYPT_R},p={SCRYPT_P}"
    else:
        kdf, params = "hkdf", "sha256"
    header = f"{PREFIX}{VERSION}:{kdf}:{params}:{_b64(salt)}:{_b64(nonce)}"
    aes = AESGCM(_derive(key, kdf, params, salt))
    sealed = aes.encrypt(nonce, value.encode("utf-8"), _associated(header, aad))
    return f"{header}:{_b64(sealed)}"


def decrypt(token: str, key: MasterKey, aad: str = "") -> str:
    """Open a token; any wrong key, altered byte or other `aad` raises SecretError."""
    if not token.startswith(PREFIX):
        raise SecretError(f"not an rsdev token: expected it to start with {PREFIX}{VERSION}:")
    fields = token.split(":")
    if len(fields) < 2 or fields[1] != VERSION:
        version = fields[1] if len(fields) > 1 else ""
        raise SecretError(f"unsupported token version {version!r}; this build reads {VERSION}")
    if len(fields) != 7:
        raise SecretError(f"malformed token: expected 7 ':'-separated fields, found {len(fields)}")
    _, _, kdf, params, salt_text, nonce_text, sealed_text = fields
    salt = _unb64(salt_text, "salt")
    nonce = _unb64(nonce_text, "nonce")
    sealed = _unb64(sealed_text, "ciphertext")
    if len(salt) != SALT_BYTES or len(nonce) != NONCE_BYTES:
        raise SecretError(f"malformed token: expected a {SALT_BYTES}-byte salt and a {NONCE_BYTES}-byte nonce")
    if len(sealed) < TAG_BYTES:
        raise SecretError("malformed token: ciphertext shorter than its authentication tag (truncated?)")
    if kdf == "scrypt" and not key.is_passphrase:
        raise SecretError(f"token was sealed with a passphrase, but {key.origin} holds a raw key")
    if kdf == "hkdf" and key.is_passphrase:
        raise SecretError(f"token was sealed with a raw key, but {key.origin} holds a passphrase")
    header = token[: token.rindex(":")]
    try:
        plain = AESGCM(_derive(key, kdf, params, salt)).decrypt(nonce, sealed, _associated(header, aad))
    except InvalidTag:
        where = f"config key {aad!r}" if aad else "no config key path"
        raise SecretError(
            f"token does not decrypt with the key from {key.origin} and {where}: "
            "wrong key, altered or truncated token, or a token moved from another config key"
        ) from None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError("token decrypts to bytes that are not UTF-8 text") from None


def _associated(header: str, aad: str) -> bytes:
    return header.encode("ascii") + b"\x00" + aad.encode("utf-8")


def _derive(key: MasterKey, kdf: str, params: str, salt: bytes) -> bytes:
    if kdf == "hkdf":
        if params != "sha256":
            raise SecretError(f"unsupported token: hkdf parameters {params!r}, expected 'sha256'")
        return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=_HKDF_INFO).derive(key.material)
    if kdf == "scrypt":
        match = _SCRYPT_PARAMS.match(params)
        if match is None:
            raise SecretError(f"malformed token: scrypt parameters {params!r}, expected n=N,r=R,p=P")
        n, r, p = (int(group) for group in match.groups())
        if n < 2 or n & (n - 1) or n > _SCRYPT_MAX_N or not 1 <= r <= _SCRYPT_MAX_R or not 1 <= p <= _SCRYPT_MAX_P:
            raise SecretError(f"unsupported token: scrypt parameters {params!r} out of range")
        return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(key.material)
    raise SecretError(f"unsupported token: key derivation {kdf!r}, expected hkdf or scrypt")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise SecretError(f"malformed token: {what} is not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Only the canonical spelling: the unused low bits of the last character are not covered
    # by the tag, and a token that reads differently must not decrypt the same.
    if _b64(data) != text:
        raise SecretError(f"malformed token: {what} is not canonical base64url")
    return data


def config_path(parent: str, key: str | int) -> str:
    """The path of a config value as config errors and token associated data spell it: `a.b[0].c`."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key
