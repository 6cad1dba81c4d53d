"""monitor_postgres against a real TLS PostgreSQL: a private server with ssl=on and a certificate
from a CA this test makes (trustme), as Supabase or Neon are reached with sslmode=verify-full."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import trustme

from tests.misc.conftest import run_monitor
from tests.servers.persistence.services import PrivatePostgres

MODULE = "rsdev_misc.monitor_postgres"
NAMES = ("127.0.0.1", "db.rsdev.test")  # what the server's certificate lists


@dataclass(frozen=True)
class TlsPostgres:
    port: int
    ca: Path  # the CA that signed the server's certificate
    wrong_ca: Path  # a CA that did not

    def dsn(self, host: str = "127.0.0.1", **options: str) -> str:
        extra = "".join(f" {key}={value}" for key, value in options.items())
        return f"host={host} port={self.port} dbname=postgres user=postgres connect_timeout=3{extra}"


@pytest.fixture(scope="module")
def tls_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsPostgres]:
    folder = tmp_path_factory.mktemp("tls")
    ca, wrong = trustme.CA(), trustme.CA()
    issued = ca.issue_cert(*NAMES)
    server = PrivatePostgres({"ssl": "on", "ssl_cert_file": "server.crt", "ssl_key_file": "server.key"})
    try:
        server.place("server.crt", issued.cert_chain_pems[0].bytes())
        server.place("server.key", issued.private_key_pem.bytes())
        server.start()
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        wrong.cert_pem.write_to_path(str(folder / "wrong-ca.pem"))
        yield TlsPostgres(server.port, folder / "ca.pem", folder / "wrong-ca.pem")
    finally:
        server.close()


def check(tmp_path: Path, **config: object) -> tuple[int, dict[str, object]]:
    path = tmp_path / "monitor_postgres.json5"
    path.write_text(json.dumps({"heartbeat_table": "rsdev_tls_heartbeat", **config}))
    done = run_monitor(MODULE, "--once", "--config", str(path))
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout.splitlines()[-1])


def test_the_server_speaks_tls_with_the_test_ca(tls_postgres: TlsPostgres) -> None:
    dsn = tls_postgres.dsn(sslmode="verify-full", sslrootcert=str(tls_postgres.ca))
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert row == (True,)


def test_verify_full_with_the_right_ca_passes(tls_postgres: TlsPostgres, tmp_path: Path) -> None:
    status, result = check(tmp_path, dsn=tls_postgres.dsn(), sslmode="verify-full", sslrootcert=str(tls_postgres.ca))
    assert status == 0 and result["status"] == "ok" and result["tls"] is True


def test_verify_full_given_in_the_dsn_passes(tls_postgres: TlsPostgres, tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{tls_postgres.port}/postgres?sslmode=verify-full&sslrootcert={tls_postgres.ca}"
    status, result = check(tmp_path, dsn=url)
    assert status == 0 and result["tls"] is True


def test_verify_full_with_the_wrong_ca_fails_clearly(tls_postgres: TlsPostgres, tmp_path: Path) -> None:
    status, result = check(
        tmp_path, dsn=tls_postgres.dsn(), sslmode="verify-full", sslrootcert=str(tls_postgres.wrong_ca)
    )
    assert status == 1 and result["status"] == "unhealthy"
    error = str(result["error"])
    assert error.startswith("OperationalError: connection failed: ")
    assert "SSL error: certificate verify failed" in error
    assert error.endswith(f"(the server's certificate is not signed by the CA in {tls_postgres.wrong_ca})")


def test_verify_full_checks_the_host_name_and_verify_ca_does_not(tls_postgres: TlsPostgres, tmp_path: Path) -> None:
    # localhost is not among the certificate's names; hostaddr keeps the connection on 127.0.0.1.
    dsn = tls_postgres.dsn(host="localhost", hostaddr="127.0.0.1")
    status, result = check(tmp_path, dsn=dsn, sslmode="verify-full", sslrootcert=str(tls_postgres.ca))
    assert status == 1 and 'does not match host name "localhost"' in str(result["error"])
    assert str(result["error"]).endswith("(sslmode=verify-full: the DSN's host must be a name the certificate lists)")
    status, result = check(tmp_path, dsn=dsn, sslmode="verify-ca", sslrootcert=str(tls_postgres.ca))
    assert status == 0 and result["tls"] is True


def test_require_encrypts_without_verifying_and_disable_does_not_encrypt(
    tls_postgres: TlsPostgres, tmp_path: Path
) -> None:
    status, result = check(tmp_path, dsn=tls_postgres.dsn(), sslmode="require")
    assert status == 0 and result["tls"] is True
    # libpq: with a CA file, require verifies the chain as verify-ca does.
    status, result = check(tmp_path, dsn=tls_postgres.dsn(), sslmode="require", sslrootcert=str(tls_postgres.wrong_ca))
    assert status == 1 and "certificate verify failed" in str(result["error"])
    status, result = check(tmp_path, dsn=tls_postgres.dsn(), sslmode="disable")
    assert status == 0 and result["tls"] is False


def test_a_missing_ca_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text(json.dumps({"sslmode": "verify-full", "sslrootcert": str(tmp_path / "nope.pem")}))
    done = run_monitor(MODULE, "--once", "--config", str(path))
    assert done.returncode == 2
    assert f"sslrootcert: no such file: '{tmp_path / 'nope.pem'}'" in done.stderr
