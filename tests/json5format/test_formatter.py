"""`format`: one behaviour per test, each with a small before and after."""

from __future__ import annotations

import textwrap

import pytest

import json5format
from json5format import FormatOptions


def fmt(text: str, **options: object) -> str:
    result = json5format.format(textwrap.dedent(text), FormatOptions(**options))  # type: ignore[arg-type]
    assert json5format.format(result, FormatOptions(**options)) == result, "not idempotent"  # type: ignore[arg-type]
    return result


def out(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_indents_one_element_per_line_with_trailing_commas() -> None:
    assert fmt("{a:1,b:[true,null]}") == out("""
        {
            a: 1,
            b: [
                true,
                null,
            ],
        }
    """)


def test_indent_width() -> None:
    assert fmt("{a:{b:1,c:2}}", indent=2) == "{\n  a: {\n    b: 1,\n    c: 2,\n  },\n}\n"


def test_no_trailing_commas() -> None:
    assert fmt("[1,2,]", trailing_commas=False) == "[\n    1,\n    2\n]\n"


def test_empty_containers_stay_on_one_line() -> None:
    assert fmt("{a: [ ], b: {\n}}") == "{\n    a: [],\n    b: {},\n}\n"


def test_collapse_containers_of_one_scalar() -> None:
    assert fmt("{a: [1], b: {c: 'x'}, d: [[1]]}", collapse_containers_of_one=True) == out("""
        {
            a: [ 1 ],
            b: { c: 'x' },
            d: [
                [ 1 ],
            ],
        }
    """)


def test_containers_of_one_stay_expanded_by_default() -> None:
    assert fmt("[1]") == "[\n    1,\n]\n"


def test_collapse_does_not_hide_comments() -> None:
    assert fmt("{a: [1 // one\n]}", collapse_containers_of_one=True) == out("""
        {
            a: [
                1, // one
            ],
        }
    """)


def test_literals_are_kept_as_written() -> None:
    text = "[0xFF, .5, 5., +1, -Infinity, NaN, 1E3, 'single', \"dou\\u0062le\"]"
    assert fmt(text) == out("""
        [
            0xFF,
            .5,
            5.,
            +1,
            -Infinity,
            NaN,
            1E3,
            'single',
            "dou\\u0062le",
        ]
    """)


def test_keys_are_unquoted_when_ascii_identifiers() -> None:
    text = '{"plain": 1, \'single\': 2, "with-dash": 3, "\u00e9t\u00e9": 4, "a\\u0062": 5, "": 6, kept: 7}'
    assert fmt(text) == out("""
        {
            plain: 1,
            single: 2,
            "with-dash": 3,
            "\u00e9t\u00e9": 4,
            ab: 5,
            "": 6,
            kept: 7,
        }
    """)


def test_leading_comments_stay_above_their_property() -> None:
    assert fmt("{\n// about a\na: 1,\n/* about b */ b: 2}") == out("""
        {
            // about a
            a: 1,
            /* about b */
            b: 2,
        }
    """)


def test_end_of_line_comment_stays_on_its_value_line() -> None:
    assert fmt("{a: 1, // one\nb: [2, 3], /* two */\n}") == out("""
        {
            a: 1, // one
            b: [
                2,
                3,
            ], /* two */
        }
    """)


def test_end_of_line_comment_before_the_comma() -> None:
    assert fmt("[1 // one\n, 2]") == "[\n    1, // one\n    2,\n]\n"


def test_comment_after_opening_bracket_stays_on_its_line() -> None:
    assert fmt("{ // header\na: 1}") == "{ // header\n    a: 1,\n}\n"


def test_comments_at_the_end_of_a_container() -> None:
    assert fmt("[1,\n// last\n]") == "[\n    1,\n    // last\n]\n"
    assert fmt("{\n// nothing yet\n}") == "{\n    // nothing yet\n}\n"


def test_comments_around_the_document() -> None:
    assert fmt("// head\n\n\n{a: 1} // tail\n// after\n") == "// head\n\n{\n    a: 1,\n} // tail\n// after\n"


def test_comment_between_key_and_value_moves_above_the_property() -> None:
    assert fmt("{a /* k */ : /* v */ 1}") == "{\n    /* k */\n    /* v */\n    a: 1,\n}\n"


def test_block_comment_lines_move_with_the_indent() -> None:
    text = "{\n  a: {\n    /* one\n       two */\n    b: 1,\n  },\n}"
    assert fmt(text) == out("""
        {
            a: {
                /* one
                   two */
                b: 1,
            },
        }
    """)


def test_runs_of_blank_lines_become_one_and_single_ones_stay() -> None:
    assert fmt("{\n\n\na: 1,\n\n\n\nb: 2,\nc: 3,\n\n// d\n\nd: 4\n\n}") == out("""
        {
            a: 1,

            b: 2,
            c: 3,

            // d

            d: 4,
        }
    """)


def test_multi_line_strings_are_kept() -> None:
    assert fmt("{s: 'a \\\nb'}") == "{\n    s: 'a \\\nb',\n}\n"


def test_sort_arrays_of_scalars_keeps_comments_with_items() -> None:
    text = "['b', // bee\n 'A', /* a */ 'c', 10, 9]"
    assert fmt(text, sort_arrays=True) == out("""
        [
            10,
            9,
            'A',
            'b', // bee
            /* a */
            'c',
        ]
    """)


def test_sort_arrays_leaves_mixed_arrays_alone() -> None:
    assert fmt("[2, {a: 1}, 1]", sort_arrays=True) == "[\n    2,\n    {\n        a: 1,\n    },\n    1,\n]\n"


def test_property_order_by_path_with_wildcards() -> None:
    order = {"": ["version", "services"], "services.*": ["name", "command"]}
    text = """
        {
          services: [
            // the web server
            {command: 'serve', autorestart: true, name: 'web'},
          ],
          extra: 1,
          version: 2, // schema
        }
    """
    assert fmt(text, property_order=order) == out("""
        {
            version: 2, // schema
            services: [
                // the web server
                {
                    name: 'web',
                    command: 'serve',
                    autorestart: true,
                },
            ],
            extra: 1,
        }
    """)


def test_property_order_star_matches_objects_one_level_down() -> None:
    assert fmt("{b: 0, a: {y: 1, x: 2}}", property_order={"*": ["x"]}) == out("""
        {
            b: 0,
            a: {
                x: 2,
                y: 1,
            },
        }
    """)


def test_property_order_exact_path_beats_pattern() -> None:
    order = {"*": ["y"], "a": ["z"]}
    assert (
        fmt("{a: {x: 1, y: 2, z: 3}}", property_order=order)
        == "{\n    a: {\n        z: 3,\n        x: 1,\n        y: 2,\n    },\n}\n"
    )


def test_reordering_moves_leading_comments_and_drops_a_first_blank_line() -> None:
    text = "{\n  a: 1,\n\n  // about b\n  b: 2,\n}"
    assert fmt(text, property_order={"": ["b"]}) == "{\n    // about b\n    b: 2,\n    a: 1,\n}\n"


def test_scalar_document() -> None:
    assert fmt("  'x'  ") == "'x'\n"


def test_render_of_parsed_document() -> None:
    document = json5format.parse("{a:1}")
    assert json5format.render(document) == "{\n    a: 1,\n}\n"


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="indent"):
        FormatOptions(indent=-1)
    with pytest.raises(TypeError, match="list of names"):
        FormatOptions(property_order={"": "name"})
