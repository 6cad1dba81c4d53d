from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsdev_cli import rs_zip
from rsdev_cli.errors import UsageError
from rsdev_cli.rs_zip import create, verify
from tests.cli.helpers import cli

names = st.text(st.characters(min_codepoint=ord("a"), max_codepoint=ord("z")), min_size=1, max_size=6)
trees = st.dictionaries(st.lists(names, min_size=1, max_size=3).map("/".join), st.binary(max_size=200), max_size=8)


def write_tree(root: Path, files: dict[str, bytes], *, reverse: bool = False) -> None:
    for rel, data in sorted(files.items(), reverse=reverse):
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # `a` as a file and as a folder: keep the first


@settings(max_examples=40, deadline=None)
@given(trees)
def test_same_files_give_the_same_bytes(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        one, two = Path(tmp, "one"), Path(tmp, "two")
        one.mkdir()
        two.mkdir()
        write_tree(one, files)
        write_tree(two, {rel: data for rel, data in files.items() if (one / rel).is_file()}, reverse=True)
        for path in two.rglob("*"):
            os.utime(path, (1_700_000_000, 1_700_000_000))
        create(Path(tmp, "one.zip"), one)
        create(Path(tmp, "two.zip"), two)
        assert Path(tmp, "one.zip").read_bytes() == Path(tmp, "two.zip").read_bytes()
        assert verify(str(Path(tmp, "one.zip"))) == []


def test_layout_manifest_and_globs(tmp_path: Path) -> None:
    (tmp_path / "app" / "conf").mkdir(parents=True)
    (tmp_path / "app" / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "app" / "run.sh").chmod(0o700)
    (tmp_path / "app" / "conf" / "a.json5").write_text("{}")
    (tmp_path / "app" / "debug.log").write_text("noise")
    done = cli("rs_zip", "create", tmp_path / "out.zip", tmp_path / "app", "--exclude", "*.log")
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / "out.zip") as bundle:
        infos = bundle.infolist()
        assert [i.filename for i in infos] == ["conf/a.json5", "run.sh", "MANIFEST.json"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert [i.external_attr >> 16 for i in infos] == [0o100644, 0o100755, 0o100644]
        manifest = json.loads(bundle.read("MANIFEST.json"))
    assert [f["path"] for f in manifest["files"]] == ["conf/a.json5", "run.sh"]
    assert manifest["files"][0]["size"] == 2
    listed = cli("rs_zip", "list", tmp_path / "out.zip")
    assert listed.stdout.splitlines()[0].split("\t") == ["2", manifest["files"][0]["sha256"], "conf/a.json5"]
    only = cli("rs_zip", "create", tmp_path / "only.zip", tmp_path / "app", "--include", "conf/*")
    assert only.returncode == 0
    with zipfile.ZipFile(tmp_path / "only.zip") as bundle:
        assert bundle.namelist() == ["conf/a.json5", "MANIFEST.json"]


def test_verify_names_every_mismatch(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    for name in ("a", "b", "c"):
        (tmp_path / "app" / name).write_text(name * 3)
    create(tmp_path / "good.zip", tmp_path / "app")
    assert cli("rs_zip", "verify", tmp_path / "good.zip").returncode == 0
    # Rebuild it with `a` altered, `b` missing and `x` unlisted, keeping the old manifest.
    with zipfile.ZipFile(tmp_path / "good.zip") as src, zipfile.ZipFile(tmp_path / "bad.zip", "w") as dst:
        dst.writestr("a", "changed")
        dst.writestr("c", src.read("c"))
        dst.writestr("x", "extra")
        dst.writestr("MANIFEST.json", src.read("MANIFEST.json"))
    done = cli("rs_zip", "verify", tmp_path / "bad.zip")
    assert done.returncode == 1
    problems = done.stderr.splitlines()
    assert any(": a: size 7, manifest says 3" in p for p in problems)
    assert any(": a: sha256 " in p for p in problems)
    assert any(": x: in the zip but not in MANIFEST.json" in p for p in problems)
    assert any(": b: in MANIFEST.json but missing from the zip" in p for p in problems)
    (tmp_path / "junk.zip").write_text("not a zip")
    junk = cli("rs_zip", "verify", tmp_path / "junk.zip")
    assert junk.returncode == 1 and "not a zip file" in junk.stderr


def test_an_existing_output_is_replaced_only_with_force(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a").write_text("new")
    out = tmp_path / "out.zip"
    out.write_bytes(b"precious")
    refused = cli("rs_zip", "create", out, tmp_path / "app")
    assert refused.returncode == 2
    assert refused.stderr == f"{out}: already exists; add --force to replace it\n"
    assert out.read_bytes() == b"precious"
    forced = cli("rs_zip", "create", out, tmp_path / "app", "--force")
    assert forced.returncode == 0, forced.stderr
    assert verify(str(out)) == []
    with zipfile.ZipFile(out) as bundle:
        assert bundle.read("a") == b"new"


def test_an_output_that_appears_while_bundling_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a").write_text("x")
    out = tmp_path / "out.zip"
    real_select = rs_zip.select

    def select_then_race(*args: object, **kwargs: object) -> list[str]:
        out.write_bytes(b"written meanwhile")  # after the first check, before the write
        return real_select(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rs_zip, "select", select_then_race)
    with pytest.raises(UsageError, match="already exists; add --force"):
        create(out, tmp_path / "app")
    assert out.read_bytes() == b"written meanwhile"
