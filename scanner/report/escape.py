"""Escaping for every output. Names, messages, file names and suppression reasons come from the
scanned tree (or from AWS answers), so they are attacker text: each reporter passes them through
the function for its format before writing them.

- plain():    text read by people and CI logs (text report, stderr). Control and invisible
              characters are shown as escapes, so no value can move the cursor, recolour the
              terminal, end a line or reorder text (bidi), and `##[` cannot open a GitHub
              workflow command.
- line():     one whole line of text output: a line whose first non-blank characters are `::`
              would be a workflow command (`::error file=...::`) in a GitHub Actions log.
- markdown(): a Markdown table cell or inline text: plain(), then HTML and Markdown syntax
              neutralized (a `<!--` cannot hide the rows after it, a `|` cannot add a column).
- html():     text in an HTML page, element content or attribute value: plain(), then `<>&"'`
              as entities.
- xml():      text for an XML document built with ElementTree (which escapes `<&>"` itself):
              characters XML 1.0 forbids are shown as escapes instead of making the file invalid.
"""
from __future__ import annotations

import re

# C0 and C1 controls, DEL, lone surrogates (undecodable file-name bytes), line and paragraph
# separators, bidi embeddings, overrides and isolates, zero-width characters and the BOM.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                     "\ufff9-\ufffb\ud800-\udfff]|##\\[")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    if char == "##[":
        return "#\\x23["
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text) -> str:
    """One value on one line, with nothing a terminal or CI log would act on."""
    text = str(text)
    return _UNSAFE.sub(lambda m: _escape(m.group()), text) if _UNSAFE.search(text) else text


_COMMAND_START = re.compile(r"^(\s*)::")


def line(text: str) -> str:
    """A line of output that cannot start a GitHub workflow command (leading `::` escaped)."""
    return _COMMAND_START.sub(r"\1\\::", text)


def lines(text) -> str:
    """Text of several lines (a list of problems): each line plain() and line()."""
    return "\n".join(line(plain(part)) for part in str(text).split("\n"))


# Markdown: `<>&` as entities (no HTML, no comments), the rest of the inline syntax backslash-
# escaped: code spans, emphasis, strike-through, links and images, math, table pipes.
_MARKDOWN = re.compile(r"[\\`*_\[\]<>&|~$]")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def markdown(text) -> str:
    """A value as Markdown inline text that renders as itself, inside a table cell too."""
    return _MARKDOWN.sub(lambda m: _ENTITIES.get(m.group(), "\\" + m.group()), plain(text))


# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. Written as
# the characters left out: the negated class compiles a table of all Unicode (10 ms at startup).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml(text) -> str:
    """A value XML can hold: characters XML forbids become visible escapes."""
    text = str(text)
    return _NOT_XML.sub(lambda m: _escape(m.group()), text) if _NOT_XML.search(text) else text


def html(text) -> str:
    """A value in HTML text or a quoted attribute: shown as itself, never markup."""
    from html import escape   # the stdlib module, not this function

    return escape(plain(text), quote=True)
