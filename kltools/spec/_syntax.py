"""Python syntax trees of user expressions, including very long flat sums.

``ast.parse`` turns ``t1 + t2 + ... + tn`` into a left-leaning chain n levels deep, and converting
that chain to Python objects recurses once per level: a 10 000-term sum hits the recursion limit.
:func:`parse_tree` then cuts the text at its top-level ``+``/``-`` signs (found with
:mod:`tokenize`), parses each term on its own and joins the terms in a balanced tree of
additions, whose depth is log₂ n. Node positions are shifted back to the original text, so error
messages quote what the user wrote. Nothing is evaluated.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings

__all__ = ["Source", "parse_tree"]


class Source:
    """Source segments of nodes in O(length of the segment) (``ast.get_source_segment``
    splits the whole text on every call: quadratic on long expressions)."""

    def __init__(self, text: str) -> None:
        self.lines = [line.encode("utf-8") for line in text.splitlines(keepends=True)] or [b""]

    def segment(self, node: ast.AST) -> str | None:
        try:
            a, b = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined,operator]
            ca, cb = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            return None
        if not (0 <= a <= b < len(self.lines)):
            return None
        if a == b:
            return self.lines[a][ca:cb].decode("utf-8", "replace")
        parts = [self.lines[a][ca:], *self.lines[a + 1:b], self.lines[b][:cb]]
        return b"".join(parts).decode("utf-8", "replace")


_OPERAND_END = {tokenize.NAME, tokenize.NUMBER, tokenize.STRING}


def _top_level_signs(text: str) -> list[tuple[int, int]]:
    """(line, column) of each binary ``+``/``-`` outside brackets; empty if untokenizable."""
    cuts: list[tuple[int, int]] = []
    depth = 0
    prev: tokenize.TokenInfo | None = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
            elif (tok.type == tokenize.OP and tok.string in ("+", "-") and depth == 0
                  and prev is not None
                  and (prev.type in _OPERAND_END or prev.string in (")", "]", "}"))):
                cuts.append(tok.start)
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT,
                                tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                prev = tok
    except (tokenize.TokenError, SyntaxError):
        return []
    return cuts


def _quiet_parse(text: str) -> ast.Expression:
    # Python warns (on stderr) about things like "1if x else 2" or "\(" in a string; the
    # caller refuses what is not allowed with its own one-line message, so a warning would
    # only be noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ast.parse(text, mode="eval")


def _shift(tree: ast.AST, line: int, col_bytes: int) -> None:
    """Move a tree parsed from a piece starting at (``line``, ``col_bytes``) to that place."""
    for node in ast.walk(tree):
        if not hasattr(node, "lineno"):
            continue
        if node.lineno == 1:
            node.col_offset += col_bytes
        if getattr(node, "end_lineno", None) == 1 and node.end_col_offset is not None:
            node.end_col_offset += col_bytes
        node.lineno += line - 1
        if getattr(node, "end_lineno", None) is not None:
            node.end_lineno += line - 1


def _balanced_sum(terms: list[ast.expr]) -> ast.expr:
    while len(terms) > 1:
        paired = [ast.BinOp(left=terms[i], op=ast.Add(), right=terms[i + 1])
                  for i in range(0, len(terms) - 1, 2)]
        terms = paired + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def _parse_sum(text: str) -> ast.Expression | None:
    cuts = _top_level_signs(text)
    if not cuts:
        return None
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln))
    starts = [(1, 0), *cuts]
    index = [offsets[r - 1] + c for r, c in starts] + [len(text)]
    terms: list[ast.expr] = []
    for (row, col), a, b in zip(starts, index, index[1:], strict=False):
        tree = _quiet_parse(text[a:b])  # a term: may raise SyntaxError itself
        _shift(tree, row, len(lines[row - 1][:col].encode("utf-8")))
        terms.append(tree.body)
    return ast.Expression(body=_balanced_sum(terms))


def parse_tree(text: str) -> ast.Expression:
    """``ast.parse(text, mode="eval")``, also for sums too long for it (module docstring).

    Raises ``SyntaxError`` like ``ast.parse``, and ``RecursionError`` / ``MemoryError`` when even
    a single term is too deeply nested for Python's parser.
    """
    try:
        return _quiet_parse(text)
    except RecursionError:
        tree = _parse_sum(text)
        if tree is None:
            raise
        return tree
