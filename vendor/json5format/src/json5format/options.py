"""`FormatOptions`: the style choices of the formatter, with the defaults of Google's json5format."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType


def _no_order() -> Mapping[str, Sequence[str]]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """How `format` lays out a document.

    `property_order` maps a path to the property names that come first, in that order, in the
    objects found at that path; the other properties follow in their original order. A path
    names an object by the property names (or array indexes) leading to it from the top-level
    value, joined by dots; the top-level object itself is `""`. A `*` segment matches any one
    name or index: `"*"` is every object directly inside the top-level value and
    `"services.*"` every item of the `services` array. An exact path wins over patterns, and
    among patterns the one with fewer `*` wins, then the first given.
    """

    indent: int = 4
    trailing_commas: bool = True
    # Like upstream's `collapse_containers_of_one` (formatjson5 --one_element_lines): an object
    # or array holding a single string, number or literal and no comments is written on one line.
    collapse_containers_of_one: bool = False
    # Sort arrays whose items are all strings, numbers or literals, case-insensitively by text.
    sort_arrays: bool = False
    property_order: Mapping[str, Sequence[str]] = field(default_factory=_no_order)

    def __post_init__(self) -> None:
        if self.indent < 0:
            raise ValueError(f"indent must be 0 or more, not {self.indent}")
        for path, names in self.property_order.items():
            if isinstance(names, str):
                raise TypeError(f"property_order[{path!r}] must be a list of names, not the string {names!r}")
