from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from tests.cli.helpers import cli


def make_tree(root: Path) -> None:
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "svc.json5").write_text("// the service\n{name: 'web', on: 'yes'}\n")
    (root / "b.yaml").write_text("# b\nport: 8080\nmode: 'off'\n")
    (root / "a.json").write_text('{"list": [1, 2]}')
    (root / "notes.txt").write_text("not config")


def test_one_document_keyed_by_path(tmp_path: Path) -> None:
    make_tree(tmp_path / "cfg")
    done = cli("dir_to_yaml", tmp_path / "cfg")
    assert done.returncode == 0, done.stderr
    value = YAML(typ="safe").load("%YAML 1.1\n---\n" + done.stdout)
    assert list(value) == ["a.json", "b.yaml", "sub/svc.json5"]
    assert value["sub/svc.json5"] == {"name": "web", "on": "yes"}
    assert value["b.yaml"] == {"port": 8080, "mode": "off"}
    assert "# the service" in done.stdout and "# b" in done.stdout
    assert cli("dir_to_yaml", tmp_path / "cfg").stdout == done.stdout


def test_split(tmp_path: Path) -> None:
    make_tree(tmp_path / "cfg")
    done = cli("dir_to_yaml", tmp_path / "cfg", "--split", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.yaml"))
    assert written == ["a.yaml", "b.yaml", "sub/svc.yaml"]
    assert YAML(typ="safe").load((tmp_path / "out/sub/svc.yaml").read_text()) == {"name": "web", "on": "yes"}


def test_errors_name_file_line_col(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "bad.yml").write_text("a: [\n")
    done = cli("dir_to_yaml", tmp_path / "cfg")
    assert done.returncode == 1 and done.stderr.startswith(f"{tmp_path / 'cfg' / 'bad.yml'}:2:1: ")
    (tmp_path / "cfg" / "bad.yml").unlink()
    (tmp_path / "cfg" / "bad.json5").write_text("{a: }")
    done = cli("dir_to_yaml", tmp_path / "cfg")
    assert done.returncode == 1 and done.stderr.startswith(f"{tmp_path / 'cfg' / 'bad.json5'}:1:5: ")
    assert cli("dir_to_yaml", tmp_path / "absent").returncode == 1
