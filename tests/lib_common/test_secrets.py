from __future__ import annotations

import base64

import pytest

from lib_common import secrets
from lib_common.errors import SecretError

KEY = secrets.key_from_base64(base64.b64encode(bytes(range(32))).decode(), "test")


def test_round_trip_with_fresh_salt_and_nonce() -> None:
    one, two = secrets.encrypt("v", KEY, "a.b"), secrets.encrypt("v", KEY, "a.b")
    assert one != two
    assert secrets.decrypt(one, KEY, "a.b") == secrets.decrypt(two, KEY, "a.b") == "v"


def test_every_byte_of_the_token_is_authenticated() -> None:
    token = secrets.encrypt("value", KEY, "p")
    for index in range(len("rsdev:v1:hkdf:sha256:"), len(token)):
        if token[index] == ":":
            continue
        altered = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
        with pytest.raises(SecretError):
            secrets.decrypt(altered, KEY, "p")


def test_wrong_path_or_key() -> None:
    token = secrets.encrypt("value", KEY, "p")
    with pytest.raises(SecretError, match="config key 'q'"):
        secrets.decrypt(token, KEY, "q")
    other = secrets.key_from_base64(base64.b64encode(bytes(32)).decode(), "other")
    with pytest.raises(SecretError, match="with the key from other"):
        secrets.decrypt(token, other, "p")


def test_scrypt_parameters_are_bounded() -> None:
    key = secrets.MasterKey(b"a long passphrase", True, "pass")
    token = secrets.encrypt("v", key, scrypt_n=2**10)
    assert secrets.decrypt(token, key) == "v"
    with pytest.raises(SecretError, match="out of range"):
        secrets.decrypt(token.replace("n=1024", "n=2097152"), key)


def test_load_master_key(tmp_path: object) -> None:
    with pytest.raises(SecretError, match="no master key"):
        secrets.load_master_key({})
    with pytest.raises(SecretError, match="not base64"):
        secrets.load_master_key({"RSDEV_MASTER_KEY": "***"})
    assert secrets.load_master_key({"RSDEV_MASTER_KEY": base64.b64encode(bytes(32)).decode()}).material == bytes(32)


def test_plain_strings_with_the_rsdev_prefix_are_not_tokens() -> None:
    from lib_common.secrets import is_token

    assert not is_token("rsdev:quote:")
    assert not is_token("rsdev:monitor:heartbeat")
    assert is_token("rsdev:v1:hkdf:x:y:z:w")
    assert is_token("rsdev:v9:anything")  # an unknown version still fails closed on decrypt
