from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

from lib_common import secrets
from lib_common.config import parse_json5
from lib_common.errors import ConfigError, SecretError
from tests.cli.helpers import cli

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER = base64.b64encode(bytes(32)).decode()


def env(key: str = KEY) -> dict[str, str]:
    return {"RSDEV_MASTER_KEY": key}


def test_round_trip_and_associated_data() -> None:
    token = cli("rs_encrypt", "--encrypt", "hunter2", "--aad", "db.password", env=env()).stdout.strip()
    assert token.startswith("rsdev:v1:hkdf:sha256:")
    done = cli("rs_encrypt", "--decrypt", token, "--aad", "db.password", env=env())
    assert done.returncode == 0 and done.stdout == "hunter2\n"
    moved = cli("rs_encrypt", "--decrypt", token, "--aad", "db.user", env=env())
    assert moved.returncode == 1 and "token does not decrypt" in moved.stderr and "db.user" in moved.stderr
    assert moved.stdout == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t[:-4], "does not decrypt|malformed token"),
        (lambda t: t[: t.rindex(":")], "malformed token"),
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "does not decrypt|not canonical"),
        (lambda t: t.replace("rsdev:v1:", "rsdev:v9:"), "unsupported token version"),
        (lambda t: t.replace(":sha256:", ":sha512:"), "unsupported token"),
    ],
)
def test_altered_tokens_fail_closed(change: object, message: str) -> None:
    token = cli("rs_encrypt", "--encrypt", "s3cret", env=env()).stdout.strip()
    done = cli("rs_encrypt", "--decrypt", change(token), env=env())  # type: ignore[operator]
    assert done.returncode == 1 and re.search(message, done.stderr) and done.stdout == ""


def test_wrong_key_fails() -> None:
    token = cli("rs_encrypt", "--encrypt", "s3cret", env=env()).stdout.strip()
    done = cli("rs_encrypt", "--decrypt", token, env=env(OTHER))
    assert done.returncode == 1 and "token does not decrypt with the key from RSDEV_MASTER_KEY" in done.stderr


def test_no_key_and_bad_key() -> None:
    done = cli("rs_encrypt", "--encrypt", "x")
    assert done.returncode == 1 and "no master key" in done.stderr
    done = cli("rs_encrypt", "--encrypt", "x", env=env("c2hvcnQ="))
    assert done.returncode == 1 and "RSDEV_MASTER_KEY: expected base64 of 32 bytes, found 5 bytes" in done.stderr


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_key_file_modes(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    made = cli("rs_encrypt", "--generate-key", "--key-out", key_file)
    assert made.returncode == 0 and made.stdout == ""
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert cli("rs_encrypt", "--generate-key", "--key-out", key_file).returncode == 1  # never overwrites
    file_env = {"RSDEV_KEY_FILE": str(key_file)}
    token = cli("rs_encrypt", "--encrypt", "v", env=file_env).stdout.strip()
    assert cli("rs_encrypt", "--decrypt", token, env=file_env).stdout == "v\n"
    key_file.chmod(0o644)
    refused = cli("rs_encrypt", "--decrypt", token, env=file_env)
    assert refused.returncode == 1
    assert "readable or writable by group or others (mode 0644)" in refused.stderr and "chmod 600" in refused.stderr


def test_passphrase_key_file_uses_scrypt(tmp_path: Path) -> None:
    key_file = tmp_path / "pass.key"
    key_file.write_text("passphrase:correct horse battery staple\n")
    key_file.chmod(0o600)
    key = secrets.read_key_file(key_file)
    token = secrets.encrypt("v", key, "a", scrypt_n=2**10)
    assert token.startswith("rsdev:v1:scrypt:n=1024,r=8,p=1:")
    assert secrets.decrypt(token, key, "a") == "v"
    with pytest.raises(SecretError, match="sealed with a passphrase"):
        secrets.decrypt(token, secrets.key_from_base64(KEY, "k"), "a")


def test_generate_key_prints_a_usable_key() -> None:
    key = cli("rs_encrypt", "--generate-key").stdout.strip()
    assert len(base64.b64decode(key)) == 32


def test_encrypt_file_keeps_comments_and_config_loading_decrypts(tmp_path: Path) -> None:
    src = tmp_path / "c.json5"
    src.write_text(
        '{\n  // the database\n  db: {password: "encrypt:hunter2", user: "app"},\n  keys: ["encrypt:k0"],\n}\n'
    )
    done = cli("rs_encrypt", "--encrypt-file", src, "--in-place", env=env())
    assert done.returncode == 0, done.stderr
    text = src.read_text()
    assert "// the database" in text and "hunter2" not in text and '"app"' in text
    key = secrets.key_from_base64(KEY, "test")
    root = parse_json5(text, "c.json5", key=key)
    assert root.section("db").required_str("password") == "hunter2"
    assert root.optional_str_list("keys") == ["k0"]
    # The same token under another key does not decrypt: it was bound to db.password.
    token = text.split('password: "')[1].split('"')[0]
    with pytest.raises(ConfigError, match=r"c\.json5:[0-9]+:[0-9]+: db\.user: token does not decrypt"):
        parse_json5(f'{{db: {{user: "{token}"}}}}', "c.json5", key=key)


def test_help_says_where_the_key_comes_from() -> None:
    done = cli("rs_encrypt", "--help")
    assert done.returncode == 0
    help_text = " ".join(done.stdout.split())
    assert "RSDEV_MASTER_KEY base64 of 32 random bytes" in help_text
    assert "RSDEV_KEY_FILE else: the path of a file" in help_text
    assert "RSDEV_MASTER_KEY wins when both are set" in help_text
    # What the help promises for neither is what happens.
    assert 'With neither set, --encrypt, --decrypt and --encrypt-file exit 1 with "no master key"' in help_text
    missing = cli("rs_encrypt", "--decrypt", "rsdev:v1:x")
    assert missing.returncode == 1 and missing.stderr.startswith("no master key") and missing.stdout == ""
