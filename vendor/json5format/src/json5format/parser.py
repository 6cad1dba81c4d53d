"""`parse`: JSON5 text to a `cst.Document` that keeps comments, blank lines and literals.

The same token loop as `values.loads`, with an explicit stack, plus the placing of comments
(see `cst`): after a value, comments on the rest of its line are its end-of-line comments,
unless the next value starts on that same line; every other comment leads the next element,
or trails its container when no element follows. The bookkeeping lives in local variables of
one loop, because this is the formatter's hot path:

    pending     comments and blank lines for the next element (or the container's end)
    owner       what the last value's end-of-line comments go to: its element, or the
                container of an opening bracket, or the document
    candidates  comments on the last value's line, placed when the line's end is seen
    on_line     no line break since the last value ended
"""

from __future__ import annotations

from .collector import paused
from .cst import BLANK_LINE, ArrayNode, BlankLine, Comment, Container, Document, Element, Node, ObjectNode
from .tokens import KEY, LITERALS, TOKEN, TRIVIA_PART, VALUE, TokenError, decode_identifier, decode_string
from .values import _AFTER, _COLON, _END, _ITEM, _KEY, _VALUE, DEFAULT_MAX_DEPTH, expectation, token_error, too_deep
from .values import unexpected as _unexpected

_Pending = list[Comment | BlankLine]


def _column(text: str, offset: int) -> int:
    """0-based column of `offset`: lines are short, so walk back rather than count from the start."""
    start = offset
    while start > 0 and text[start - 1] not in "\n\r\u2028\u2029":
        start -= 1
    return offset - start


_Owner = Element | Container | Document


def _add_eol(owner: _Owner, comments: list[Comment]) -> None:
    if isinstance(owner, Container):
        owner.open_comments += tuple(comments)
    else:
        owner.eol += tuple(comments)


def _trivia(
    text: str, start: int, end: int, on_line: bool, candidates: list[Comment], pending: _Pending, owner: _Owner
) -> tuple[bool, list[Comment]]:
    """Place the comments and line breaks of `text[start:end]`; returns (on_line, candidates)."""
    newlines = 0
    for part in TRIVIA_PART.finditer(text, start, end):
        token = part.group()
        if token[0] != "/":
            if on_line:
                on_line = False
                if candidates:
                    _add_eol(owner, candidates)
                    candidates = []
            newlines += 1
            if newlines == 2:
                pending.append(BLANK_LINE)
            continue
        column = -1
        if token[1] == "*" and any(char in token for char in "\n\r\u2028\u2029"):
            column = _column(text, part.start())
        if on_line:
            candidates.append(Comment(token, column))
        else:
            pending.append(Comment(token, column))
        newlines = 0
    return on_line, candidates


def parse(text: str, *, source: str = "<input>", max_depth: int = DEFAULT_MAX_DEPTH) -> Document:
    """Parse a JSON5 document into a syntax tree that keeps comments and literals as written."""
    with paused():
        return _parse(text, source, max_depth)


def _parse(text: str, source: str, max_depth: int) -> Document:
    match = TOKEN.match
    match_key = KEY.match
    match_value = VALUE.match
    literals = LITERALS
    document = Document("null", source=source)
    pending: _Pending = []
    owner: _Owner = document
    candidates: list[Comment] = []
    on_line = False
    stack: list[Container] = []
    holders: list[_Owner] = []  # the element (or document) holding each open container
    top: Container | None = None
    element: Element | None = None  # the property whose value comes next
    state = _VALUE
    pos = 0
    while True:
        # Fast paths (see tokens.KEY and tokens.VALUE): no comments and no blank line before the
        # token, so `pending` and `candidates` are empty and there is nothing to place.
        if state == _KEY and not pending:
            m = match_key(text, pos)
            if m is not None:
                kind = m.lastgroup or "k"
                token = m.group(kind)
                try:
                    key = decode_string(token) if kind == "q" else decode_identifier(token)
                except TokenError as exc:
                    raise token_error(text, m.start(kind), exc, source) from None
                element = Element("", key, token)
                on_line = False
                pos = m.end()
                state = _VALUE
                continue
        elif (state in (_VALUE, _ITEM)) and top is not None and not pending:
            m = match_value(text, pos)
            if m is not None:
                token = m.group("v")
                first = token[0]
                if first == '"' or first == "'":
                    if "\\" in token:
                        try:
                            decode_string(token)
                        except TokenError as exc:
                            raise token_error(text, m.start("v"), exc, source) from None
                elif token not in literals and first not in "+-.0123456789":
                    m = None  # an identifier where a value belongs: reported by the general path
                if m is not None:
                    pos = m.end()
                    if element is not None:
                        element.value = token
                        top.elements.append(element)
                        owner = element
                        element = None
                    else:
                        owner = Element(token)
                        top.elements.append(owner)
                    on_line = True
                    state = _AFTER if m.lastgroup == "v" else _KEY if type(top) is ObjectNode else _ITEM
                    continue
        m = match(text, pos)
        assert m is not None
        kind = m.lastgroup or "x"
        start = m.start(kind)
        if start != pos:
            on_line, candidates = _trivia(text, pos, start, on_line, candidates, pending, owner)
        pos = m.end()
        in_object = type(top) is ObjectNode
        if state == _AFTER or (kind == "p" and (state in (_ITEM, _KEY)) and text[start] in "]}"):
            char = text[start] if kind == "p" else ""
            if char == "," and state == _AFTER:
                if candidates:
                    _add_eol(owner, candidates)
                    candidates = []
                state = _KEY if in_object else _ITEM
                continue
            if (char == "}") if in_object else (char == "]"):
                assert top is not None
                if candidates:
                    _add_eol(owner, candidates)
                    candidates = []
                top.trailing = tuple(pending)
                pending = []
                stack.pop()
                owner = holders.pop()
                on_line = True
                top = stack[-1] if stack else None
                state = _AFTER if stack else _END
                continue
            raise _unexpected(text, start, kind, expectation(state, in_object), source)
        if state == _KEY:
            # A property name with comments or line breaks before it or its ':'.
            token = m.group(kind)
            try:
                if kind == "i":
                    key = decode_identifier(token)
                elif kind == "s":
                    key = decode_string(token)
                else:
                    raise _unexpected(text, start, kind, expectation(state, True), source)
            except TokenError as exc:
                raise token_error(text, start, exc, source) from None
            if candidates:
                pending.extend(candidates)
                candidates = []
            on_line = False
            element = Element("", key, token, tuple(pending))
            pending = []
            state = _COLON
            continue
        if state == _COLON:
            if kind == "p" and text[start] == ":":
                state = _VALUE
                continue
            raise _unexpected(text, start, kind, expectation(state, True), source)
        if state == _END:
            if kind == "e":
                if candidates:
                    _add_eol(owner, candidates)
                document.trailing = tuple(pending)
                return document
            raise _unexpected(text, start, kind, expectation(state, False), source)
        # _VALUE or _ITEM: a value starts here.
        node: Node
        if kind == "s" or kind == "n" or (kind == "i" and m.group("i") in literals):
            node = m.group(kind)
            if kind == "s" and "\\" in node:
                try:
                    decode_string(node)
                except TokenError as exc:
                    raise token_error(text, start, exc, source) from None
        elif kind == "p" and (text[start] == "{" or text[start] == "["):
            if len(stack) >= max_depth:
                raise too_deep(text, start, max_depth, source)
            node = ObjectNode([]) if text[start] == "{" else ArrayNode([])
        else:
            raise _unexpected(text, start, kind, expectation(state, False), source)
        if candidates:
            pending.extend(candidates)
            candidates = []
        if top is None:
            document.leading = tuple(pending)
            document.value = node
            owner = document
        elif element is not None:  # a property's value, after its ':'
            if pending:
                element.leading += tuple(entry for entry in pending if type(entry) is Comment)
            element.value = node
            top.elements.append(element)
            owner = element
            element = None
        else:
            owner = Element(node, None, "", tuple(pending))
            top.elements.append(owner)
        pending = []
        on_line = True
        if type(node) is str:
            state = _END if top is None else _AFTER
            continue
        assert not isinstance(node, str)
        stack.append(node)
        holders.append(owner)
        top = node
        owner = node
        state = _KEY if type(node) is ObjectNode else _ITEM
