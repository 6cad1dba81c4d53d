"""TLS files checked at load (issue 13 #12): a missing, unreadable or garbage certificate, a key
that is not one or does not match, each a one-line config error naming the file, exit 2; a
certificate that has expired or expires within 14 days warned about at start."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from servers.kit import tls
from tests.bad_config import config_problems
from tests.servers.conftest import StartRestream

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def write_pair(folder: Path, *, not_after: datetime | None = None) -> tuple[Path, Path]:
    cert = trustme.CA().issue_cert("127.0.0.1", "localhost", not_after=not_after)
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert.private_key_pem.write_to_path(str(key_path))
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    return cert_path, key_path


def other_key(path: Path, *, password: bytes | None = None) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    crypt = serialization.NoEncryption() if password is None else serialization.BestAvailableEncryption(password)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, crypt))
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write_pair(tmp_path)


def test_a_good_pair_has_no_problem(pair: tuple[Path, Path]) -> None:
    assert tls.problem(*pair) is None


@pytest.mark.parametrize(
    ("break_it", "which", "message"),
    [
        (lambda cert, key: cert.unlink(), "cert", "server.pem: no such file"),
        (lambda cert, key: key.unlink(), "key", "server.key: no such file"),
        (lambda cert, key: (cert.unlink(), cert.mkdir()), "cert", "server.pem: cannot read: Is a directory"),
        (lambda cert, key: cert.write_bytes(b"\x00garbage" * 100), "cert", "server.pem: not a PEM certificate"),
        (lambda cert, key: key.write_text("hello\n"), "key", "server.key: not a PEM private key"),
        (lambda cert, key: key.write_bytes(cert.read_bytes()), "key", "server.key: not a PEM private key"),
        (lambda cert, key: other_key(key), "key", "server.key: does not match the certificate in"),
        (lambda cert, key: other_key(key, password=b"pw"), "key", "server.key: the key is encrypted"),
    ],
)
def test_each_broken_pair_names_the_file_and_the_key(
    pair: tuple[Path, Path], break_it: object, which: str, message: str
) -> None:
    cert, key = pair
    break_it(cert, key)  # type: ignore[operator]
    problem = tls.problem(cert, key)
    assert problem is not None and problem.which == which and message in problem.message, problem


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(days=-1), "expired on 2026-01-14"),
        (timedelta(days=3, hours=1), "expires on 2026-01-18 13:00 UTC, in 3 days"),
        (timedelta(days=14), "in 14 days"),
        (timedelta(days=15), None),
    ],
)
def test_expiry_notice_within_14_days_or_after(tmp_path: Path, left: timedelta, expected: str | None) -> None:
    cert, _ = write_pair(tmp_path, not_after=NOW + left)
    notice = tls.expiry_notice(cert, NOW)
    assert (notice is None) if expected is None else (notice is not None and expected in notice), notice


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda cert, key: cert.unlink(), "tls.cert: {cert}: no such file"),
        (lambda cert, key: cert.write_text("garbage\n"), "tls.cert: {cert}: not a PEM certificate"),
        (lambda cert, key: other_key(key), "tls.key: {key}: does not match the certificate in {cert}"),
    ],
)
def test_restream_exits_2_with_one_line_at_the_tls_key(tmp_path: Path, break_it: object, message: str) -> None:
    cert, key = write_pair(tmp_path)
    break_it(cert, key)  # type: ignore[operator]
    config = "{\n  tls: {\n    cert: " + json.dumps(str(cert)) + ",\n    key: " + json.dumps(str(key)) + ",\n  },\n}\n"
    path, problems = config_problems(tmp_path, "servers.restream", config)
    where = "3:11" if "tls.cert" in message else "4:10"  # the value of `cert:` or of `key:`
    assert len(problems) == 1 and problems[0].startswith(f"{path}:{where}: " + message.format(cert=cert, key=key))


def test_restream_warns_at_start_of_a_certificate_about_to_expire(
    tmp_path: Path, start_restream: StartRestream
) -> None:
    cert, key = write_pair(tmp_path, not_after=datetime.now(UTC) + timedelta(days=3))
    server = start_restream({"tls": {"cert": str(cert), "key": str(key)}}, scheme="https", verify=False)
    assert server.get("/health").status_code == 200
    server.stop()
    warnings = [line for line in server.output().splitlines() if "WARNING" in line and "TLS certificate" in line]
    assert len(warnings) == 1 and f"TLS certificate {cert} expires on" in warnings[0], server.output()


def test_a_nul_in_a_tls_path_is_one_config_problem() -> None:
    # The config fuzz target's find: ValueError("embedded null byte") escaped the reader.
    from lib_common.errors import ConfigError
    from servers.restream.config import parse_config

    with pytest.raises(ConfigError) as info:
        parse_config("{ tls: { cert: 'missi\x00\x00ng.pem', key: 'missing.key' } }", "c.json5")
    assert (
        str(info.value) == "c.json5:1:16: tls.cert: a NUL character (\\u0000) is not allowed in a configuration string"
    )
