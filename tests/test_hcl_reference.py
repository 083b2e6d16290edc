"""Our HCL reading (tree-sitter-hcl) against python-hcl2's, the reference the design names:
every Terraform fixture, and the benchmark corpus where ../shared is there, read both ways,
with the value of every attribute of every block compared, so the port cannot drift.

python-hcl2's dict is not our values: it renders every expression back to text ("${var.x}",
"${-1}"), keeps strings quoted and escaped as written ('"a\\nb"'), heredocs as their source, and
quoted keys and labels with their quotes. So what is compared is what both hold: literals
(booleans, numbers, null, strings without interpolation, by value after unescaping), the shape
of lists and objects (lengths and keys, item by item), blocks (type, labels, how many, in
order), and for everything else the expression's text with whitespace and comments removed
(python-hcl2 re-renders it, so spacing, line breaks and comments differ, nothing else).

The whole corpus (547 files) takes a while under python-hcl2: by default every 8th file is
read; CERTWARDEN_HCL_REFERENCE=all reads them all.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import hcl2
import pytest

from certwarden.sources.terraform.expressions import Context, Evaluator
from certwarden.sources.terraform.hcl import Block, Expr, parse

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = sorted(p for p in (ROOT / "fixtures").rglob("*") if p.suffix in (".tf", ".tfvars"))
CORPUS_FILES = sorted(CORPUS.rglob("*.tf")) if CORPUS.is_dir() else []
SAMPLE = CORPUS_FILES if os.environ.get("CERTWARDEN_HCL_REFERENCE") == "all" else CORPUS_FILES[::8]

_MARKERS = ("__is_block__", "__comments__", "__inline_comments__")   # python-hcl2's, not the file's
_SPACE = re.compile(r"[\s,]+")
_COMMENT = re.compile(r'("(?:[^"\\\n]|\\.)*")|#[^\n]*|//[^\n]*|/\*.*?\*/', re.S)


def _unquote(key: str) -> str:
    """An object key or label as written, without python-hcl2's quotes or ${} (`aws.acm = x`)."""
    if key.startswith("${") and key.endswith("}"):
        return key[2:-1]
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def _normal(text: str) -> str:
    """Expression text without comments (outside strings), whitespace or commas (python-hcl2
    writes one between object elements on lines of their own), and with ':' read as '=' (it
    writes `"k" : v` as `"k" = v`): what re-rendering keeps."""
    return _SPACE.sub("", _COMMENT.sub(lambda m: m.group(1) or "", text)).replace(":", "=")


def _string_value(raw: str):
    """The value of python-hcl2's quoted literal (as written, quotes and escapes kept), or None
    for an escape JSON does not read (\\U, or one HCL does not define)."""
    try:
        return json.loads(raw.replace("\t", "\\t")).replace("$${", "${").replace("%%{", "%{")
    except ValueError:
        return None


class Compare:
    def __init__(self, file: str):
        self.file = file
        self.ev = Evaluator(Context())
        self.checked = 0

    def fail(self, where: str, ours, theirs):
        pytest.fail(f"{self.file}: {where}: ours {ours!r}, python-hcl2 {theirs!r}")

    def value(self, where: str, expr: Expr, ref) -> None:
        """One attribute's value (or an item of one) against python-hcl2's."""
        self.checked += 1
        node, src = expr.node, expr.source
        inner = _unwrap(node)
        if isinstance(ref, list) and inner is not None and inner.type == "tuple":
            items = [c for c in inner.named_children if c.type == "expression"]
            if len(items) != len(ref):
                self.fail(where, len(items), len(ref))
            for i, (item, r) in enumerate(zip(items, ref)):
                self.value(f"{where}[{i}]", Expr(item, src), r)
            return
        if isinstance(ref, dict) and inner is not None and inner.type == "object":
            elems = [c for c in inner.named_children if c.type == "object_elem"]
            ours = {}
            for elem in elems:
                key, val = [c for c in elem.named_children if c.type == "expression"]
                ours[_unquote(src.text(key).strip())] = val
            theirs = {_unquote(k.strip()): v for k, v in ref.items() if k not in _MARKERS}
            if list(ours) != list(theirs):
                self.fail(where, list(ours), list(theirs))
            for k, val in ours.items():
                self.value(f"{where}.{k}", Expr(val, src), theirs[k])
            return
        text = src.text(node)
        if isinstance(ref, bool) or ref is None or isinstance(ref, (int, float)):
            ours = self.ev.eval(expr)
            if ours != ref or type(ours) is not type(ref):
                self.fail(where, ours, ref)
        elif isinstance(ref, str) and ref.startswith('"<<'):   # a heredoc, as written
            if text.rstrip() != ref[1:-1].rstrip():
                self.fail(where, text, ref)
        elif isinstance(ref, str) and ref.startswith('"') and "${" not in ref.replace("$${", "") \
                and "%{" not in ref.replace("%%{", ""):
            expected = _string_value(ref)
            ours = self.ev.eval(expr)
            if ours != (expected if expected is not None else ours) or not isinstance(ours, str):
                self.fail(where, ours, ref)
        elif isinstance(ref, str):   # an expression python-hcl2 rendered back to text
            theirs = ref[2:-1] if ref.startswith("${") and ref.endswith("}") else ref
            if _normal(text) != _normal(theirs) and _normal(text) != _normal(ref):
                self.fail(where, text, ref)
        else:
            self.fail(where, text, ref)

    def body(self, where: str, block: Block, ref: dict) -> None:
        attrs = {k: v for k, v in ref.items() if k not in _MARKERS}
        ref_blocks = {k: v for k, v in attrs.items() if k not in block.attrs}
        for name, a in block.attrs.items():
            if name not in attrs:
                self.fail(where, name, sorted(attrs))
            self.value(f"{where}.{name}", a.expr, attrs[name])
        types = list(dict.fromkeys(b.type for b in block.blocks))
        if sorted(types) != sorted(ref_blocks):
            self.fail(where, types, sorted(ref_blocks))
        for type_ in types:
            ours = block.children(type_)
            theirs = ref_blocks[type_]
            if len(ours) != len(theirs):
                self.fail(f"{where}.{type_}", len(ours), len(theirs))
            for i, (b, r) in enumerate(zip(ours, theirs)):
                for label in b.labels:   # python-hcl2 nests a labelled block's body under each label
                    if list(r) != [f'"{label}"'] and list(r) != [label]:
                        self.fail(f"{where}.{type_}[{i}]", b.labels, list(r))
                    r = next(iter(r.values()))
                self.body(f"{where}.{type_}[{i}]", b, r)


def _unwrap(node):
    """The tuple or object an expression is, if it is one."""
    while node.type in ("expression", "collection_value") and node.named_child_count == 1 \
            and node.child_count == 1:
        node = node.named_children[0]
    return node


# python-hcl2's grammar wants what Terraform does not: a heredoc's closing marker without
# trailing spaces, and a final newline. The reference reads the file with those given.
_MARKER_TRAILING = re.compile(r"^([ \t]*[A-Za-z][A-Za-z0-9._-]*)[ \t]+$", re.M)


def _compare(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    try:
        ref = hcl2.loads(_MARKER_TRAILING.sub(r"\1", text).rstrip("\n") + "\n")
    except Exception:   # python-hcl2 refuses it: ours must too (or it is a grammar gap, named here)
        with pytest.raises(Exception):
            parse(text, str(path))
        return 0
    check = Compare(str(path))
    check.body("", parse(text, str(path)), ref)
    return check.checked


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_fixture_reads_as_python_hcl2_reads_it(path):
    _compare(path)


@pytest.mark.skipif(not CORPUS_FILES, reason="../shared/corpus is not there")
def test_the_corpus_reads_as_python_hcl2_reads_it():
    checked = sum(_compare(p) for p in SAMPLE)
    assert checked > 10 * len(SAMPLE)   # attributes compared, not files skipped


def test_the_comparison_notices_a_difference(tmp_path):
    """The comparison can fail: a value we read differently is reported."""
    check = Compare("x.tf")
    root = parse('a = 1\nb = "x"\nc = [1, 2]\n', "x.tf")
    with pytest.raises(pytest.fail.Exception, match="x.tf: .a: ours 1, python-hcl2 2"):
        check.body("", root, {"a": 2, "b": '"x"', "c": [1, 2]})
    with pytest.raises(pytest.fail.Exception, match="python-hcl2 3"):
        check.body("", root, {"a": 1, "b": '"x"', "c": [1, 2, 3]})
