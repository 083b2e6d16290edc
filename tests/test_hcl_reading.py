"""What reading HCL with tree-sitter-hcl had to get right beyond the grammar: numbers HCL writes
that the grammar misses, escapes HCL does not define, columns in characters, and errors that
say where (line and column) but never what the text there is."""
from __future__ import annotations

import re

import pytest

from certwarden.sources.terraform.expressions import Context, Evaluator
from certwarden.sources.terraform.hcl import HclError, parse


def values(text: str) -> dict:
    ev = Evaluator(Context())
    return {name: ev.eval(a.expr) for name, a in parse(text, "x.tf").attrs.items()}


def test_an_exponent_without_a_fraction_is_a_number_and_text_that_looks_like_one_is_kept():
    got = values('a = 1e5\nb = -2E+3\nc = "1e5"\nd = 1.5e3\ne = "${1e2 + 1}"\n# 1e5 in a comment\n')
    assert got == {"a": 100000.0, "b": -2000.0, "c": "1e5", "d": 1500.0, "e": "101.0"}


def test_numbers_at_the_edge_of_a_float64_are_read_or_refused_by_their_digits():
    assert values("a = 1e-5\nb = 1E+308\nc = 1e-999\n") == {"a": 1e-5, "b": 1e308, "c": 0.0}
    assert values("a = " + "9" * 308 + ".0\n") == {"a": float("9" * 308)}
    for text, shown in (("a = 2e308\n", "2e308"), ("a = 1.5E-3 + 3e+400\n", "3e+400"),
                        ("a = " + "9" * 309 + ".0\n", "9" * 20 + "...")):
        with pytest.raises(HclError, match=re.escape(f"number {shown} is out of range")):
            parse(text, "x.tf")
    # Digits of other scripts are no numbers in HCL: a name holding them is no exponent.
    assert values("x = { a\u0661e5 = 1 }\n") == {"x": {"a\u0661e5": 1}}


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
