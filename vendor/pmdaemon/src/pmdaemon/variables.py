"""`${name}` substitution in a services file's strings, so that a value is written once.

Names a string may use:
- `${NAME}` a key of the file's top-level `vars` object (strings or numbers);
- `${port}` the service's own `port`, `${ports.NAME}` another service's;
- `${state_dir}` the pmdaemon state dir (absolute), e.g. for data that must stay out of a checkout.

`$${` stands for a literal `${`. Substitution is textual and happens before a string command is
split, so a variable may hold several arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class UnknownVariable(ValueError):
    """A `${...}` names nothing; `str()` says what is known."""


def valid_name(name: str) -> bool:
    return _VAR_NAME.fullmatch(name) is not None


def expand(text: str, values: Mapping[str, str]) -> str:
    """`text` with every `${name}` replaced by `values[name]` and `$${` by `${`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise UnknownVariable(f"unknown variable ${{{name}}}; known: {known}")
        return values[name]

    return _REFERENCE.sub(replace, text)
