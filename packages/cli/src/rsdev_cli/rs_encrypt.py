"""`rs_encrypt`: seal and open config secrets (lib_common.secrets; format in docs/secrets.md).

    rs_encrypt --encrypt VALUE [--aad PATH]     print a token (VALUE `-`: read it from stdin)
    rs_encrypt --decrypt TOKEN [--aad PATH]     print the value
    rs_encrypt --encrypt-file FILE [--in-place] seal every string that starts with `encrypt:`
    rs_encrypt --generate-key [--key-out FILE]  print a new key, or write it to a new 0600 file

The key comes from RSDEV_MASTER_KEY (base64 of 32 bytes) or the 0600 file named by
RSDEV_KEY_FILE, never from the command line. `--aad PATH` is the config key path the token is
bound to (`tenants[0].token`), as config loading passes it; --encrypt-file uses each value's own
path. --encrypt-file keeps the file's comments; its layout is json5format's default style.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import json5format
from json5format.cst import ArrayNode, Node, ObjectNode, ScalarKind, scalar_kind
from json5format.values import scalar_value
from lib_common import secrets
from rsdev_cli.common import label, read_text, run, write_file, write_stdout
from rsdev_cli.errors import CliError

MARKER = "encrypt:"


def encrypt_document(text: str, source: str, key: secrets.MasterKey) -> tuple[str, int]:
    """The document with every `encrypt:VALUE` string sealed under its own path; and how many."""
    document = json5format.parse(text, source=source)
    count = 0
    stack: list[tuple[Node, str]] = [(document.value, "")]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, ObjectNode | ArrayNode):
            continue
        for index, element in enumerate(node.elements):
            child = secrets.config_path(path, (element.key or "") if isinstance(node, ObjectNode) else index)
            value = element.value
            if isinstance(value, str):
                if scalar_kind(value) is ScalarKind.STRING:
                    plain = scalar_value(value)
                    assert isinstance(plain, str)
                    if plain.startswith(MARKER):
                        element.value = json.dumps(secrets.encrypt(plain[len(MARKER) :], key, child))
                        count += 1
            else:
                stack.append((value, child))
    return json5format.render(document), count


def generate(key_out: str | None) -> None:
    key = secrets.generate_key()
    if key_out is None:
        write_stdout(key + "\n")
        return
    try:
        # O_EXCL: never overwrite a key; 0600 from the first byte, whatever the umask.
        fd = os.open(key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CliError(key_out, "already exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise CliError(key_out, f"cannot create: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    if os.name == "posix":
        os.chmod(key_out, 0o600)
    print(f"{key_out}: new key written (mode 0600); point {secrets.KEY_FILE_ENV} at it", file=sys.stderr)


KEY_HELP = f"""\
where the key comes from:
  {secrets.KEY_ENV}   base64 of {secrets.KEY_BYTES} random bytes (make one with --generate-key)
  {secrets.KEY_FILE_ENV}     else: the path of a file holding that base64 text, or a line
                     "passphrase:TEXT"; on POSIX readable by its owner only (0600 or 0400)
  {secrets.KEY_ENV} wins when both are set. With neither set, --encrypt, --decrypt and
  --encrypt-file exit 1 with "no master key" and print nothing; --generate-key needs no key.
  A key is never taken from the command line (ps and shell history would show it).
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rs_encrypt",
        description="Encrypt and decrypt rsdev config secrets.",
        epilog=KEY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--encrypt", metavar="VALUE", help='print a token for VALUE ("-": read stdin)')
    action.add_argument("--decrypt", metavar="TOKEN", help='print the value of TOKEN ("-": read stdin)')
    action.add_argument("--encrypt-file", metavar="FILE", help=f"seal every string starting with {MARKER!r}")
    action.add_argument("--generate-key", action="store_true", help="print a new base64 key")
    p.add_argument("--aad", default="", metavar="PATH", help="the config key path the token belongs to")
    p.add_argument("--in-place", action="store_true", help="--encrypt-file: rewrite FILE")
    p.add_argument("--key-out", metavar="FILE", help="--generate-key: write the key to a new 0600 FILE")
    return p


def _argument(value: str) -> str:
    return sys.stdin.read().rstrip("\r\n") if value == "-" else value


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.key_out and not args.generate_key:
        p.error("--key-out goes with --generate-key")
    if args.in_place and not args.encrypt_file:
        p.error("--in-place goes with --encrypt-file")
    if args.generate_key:
        generate(args.key_out)
        return 0
    key = secrets.load_master_key()
    if args.encrypt is not None:
        write_stdout(secrets.encrypt(_argument(args.encrypt), key, args.aad) + "\n")
    elif args.decrypt is not None:
        write_stdout(secrets.decrypt(_argument(args.decrypt).strip(), key, args.aad) + "\n")
    else:
        name = args.encrypt_file
        text, count = encrypt_document(read_text(name), label(name), key)
        if args.in_place and name != "-":
            write_file(Path(name), text)
            print(f"{name}: {count} values encrypted", file=sys.stderr)
        else:
            write_stdout(text)
    return 0


def entry() -> int:
    return run(main)


if __name__ == "__main__":
    raise SystemExit(entry())
