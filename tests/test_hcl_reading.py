"""What reading HCL with tree-sitter-hcl had to get right beyond the grammar: numbers HCL writes
that the grammar misses, escapes HCL does not define, columns in characters, and errors that
say where (line and column) but never what the text there is."""
from __future__ import annotations

import pytest

from certwarden.sources.terraform.expressions import Context, Evaluator
from certwarden.sources.terraform.hcl import HclError, parse


def values(text: str) -> dict:
    ev = Evaluator(Context())
    return {name: ev.eval(a.expr) for name, a in parse(text, "x.tf").attrs.items()}


def test_an_exponent_without_a_fraction_is_a_number_and_text_that_looks_like_one_is_kept():
    got = values('a = 1e5\nb = -2E+3\nc = "1e5"\nd = 1.5e3\ne = "${1e2 + 1}"\n# 1e5 in a comment\n')
    assert got == {"a": 100000.0, "b": -2000.0, "c": "1e5", "d": 1500.0, "e": "101.0"}


def test_escapes_hcl_does_not_define_are_kept_as_written():
    assert values('a = "x\\d\\u12 \\n\\"q\\" $${lit} %%{lit}"\n') == {"a": 'x\\d\\u12 \n"q" ${lit} %{lit}'}


def test_columns_count_characters_not_bytes():
    root = parse('locals {\n  clé = { é = 1, b = 2 }\n}\n', "x.tf")
    attr = root.children("locals")[0].attrs["clé"]
    assert (attr.line, attr.column, attr.value_column, attr.end_column) == (2, 3, 9, 25)
    obj = Evaluator(Context()).eval(attr.expr)
    assert obj == {"é": 1, "b": 2} and obj.pos == {"é": (2, 11), "b": (2, 18)}


@pytest.mark.parametrize("text, message", [
    ('resource "aws_kms_key" "x" {\n  enable_key_rotation = true\n  = broken\n}\n',
     "invalid HCL: unexpected text at line 3, column 3"),
    ('locals {\n  a = 1 é 2\n}\n', "invalid HCL: unexpected text at line 2, column 9"),
    ('locals {\n  a = [1,\n', "invalid HCL: unexpected end of file at line 3, column 1"),
    ('x = "abc\n', "invalid HCL: missing closing quote at line 2, column 1"),
])
def test_a_syntax_error_names_the_line_and_column(text, message):
    with pytest.raises(HclError) as err:
        parse(text, "x.tf")
    assert str(err.value) == message
    assert (err.value.line, err.value.column) == tuple(int(n) for n in message.replace(",", "").split()[-3::2])


def test_a_syntax_error_never_quotes_the_file():
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    with pytest.raises(HclError) as err:
        parse('tls_key = <<EOT\n' + key + 'tls_key2 = "' + key, "x.tfvars")
    assert "BEGIN" not in str(err.value) and "MIIE" not in str(err.value) and "\n" not in str(err.value)
    assert err.value.line > 0 and err.value.column > 0
