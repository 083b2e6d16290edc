"""Hypothesis strategies for the evaluators and the diff parser (tests/perf/fuzz.py): Terraform
locals that refer to each other through every kind of expression, CloudFormation parameters,
mappings and conditions built of intrinsics, and git changes to files with hostile names and
lines that look like diff headers."""
from __future__ import annotations

from hypothesis import strategies as st

from certwarden.sources.terraform.functions import FUNCTIONS

LOCALS = 6


# -- Terraform ------------------------------------------------------------------------------------
def _tf_leaves():
    return st.one_of(
        st.sampled_from(['"s"', '"a,b,c"', '""', "0", "1", "3000", "-1", "1.5", "true", "null", "[]", "{}",
                         "var.v", "x", "k", "each.value", "count.index", "aws_kms_key.k.arn", "path.module",
                         '"${x}"', '"%{if true}a%{endif}"', '"\\u00e9\\n"', "99999999999999999999"]),
        st.integers(0, LOCALS - 1).map(lambda i: f"local.a{i}"),
        st.integers(0, LOCALS - 1).map(lambda i: f'"${{local.a{i}}}${{local.a{i}}}"'))


def _tf_extend(inner):
    fn = st.sampled_from(sorted(FUNCTIONS) + ["file", "try", "can", "unknownfn"])
    return st.one_of(
        st.tuples(inner, inner).map(lambda t: f"[{t[0]}, {t[1]}]"),
        st.tuples(inner, inner).map(lambda t: f"{{ k = {t[0]}, j = {t[1]} }}"),
        st.tuples(inner, st.sampled_from(["+", "*", "-", "/", "%", "==", "!=", "<", "&&", "||"]), inner)
          .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(inner, inner).map(lambda t: f"[for x in {t[0]} : {t[1]}]"),
        st.tuples(inner, inner).map(lambda t: f"[for k, x in {t[0]} : {t[1]} if x != null]"),
        st.tuples(inner, inner).map(lambda t: f'{{for k, x in {t[0]} : "${{k}}" => {t[1]}}}'),
        st.tuples(fn, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(inner, inner).map(lambda t: f'"${{{t[0]}}}-${{{t[1]}}}"'),
        inner.map(lambda e: f"{e}[0]"), inner.map(lambda e: f"{e}.k"), inner.map(lambda e: f"{e}[*].k"),
        inner.map(lambda e: f"!{e}"), inner.map(lambda e: f"-{e}"),
        inner.map(lambda e: f"<<-EOT\n  ${{{e}}}\n  EOT\n"))


tf_expression = st.recursive(_tf_leaves(), _tf_extend, max_leaves=24)


@st.composite
def tf_locals_module(draw) -> str:
    """A module whose locals refer to each other (cycles included), read by a key and a policy."""
    exprs = draw(st.lists(tf_expression, min_size=LOCALS, max_size=LOCALS))
    body = "\n".join(f"  a{i} = {e}" for i, e in enumerate(exprs))
    default = draw(tf_expression)
    return (f'variable "v" {{\n  default = {default}\n}}\n\nlocals {{\n{body}\n}}\n\n'
            'resource "aws_kms_key" "k" {\n  description = local.a0\n  enable_key_rotation = local.a1\n'
            '  deletion_window_in_days = local.a2\n  tags = local.a3\n  policy = jsonencode(local.a4)\n'
            '  dynamic "x" {\n    for_each = local.a5\n    content {\n      v = x.value\n    }\n  }\n}\n')


# -- CloudFormation -------------------------------------------------------------------------------
PARAMS = 5


def _cfn_leaves():
    name = st.integers(0, PARAMS - 1).map(lambda i: f"P{i}")
    return st.one_of(
        st.sampled_from(["x", "", "a,b,c", "${P0}", "${!Literal}", "${Key.Arn}", "${AWS::Region}", "${", 0, 1, -1,
                         True, None, [], {}]),
        name.map(lambda n: {"Ref": n}),
        st.sampled_from(["AWS::Region", "AWS::AccountId", "AWS::NoValue", "Key", "Missing"]).map(lambda n: {"Ref": n}),
        st.lists(name, min_size=1, max_size=4).map(lambda ns: {"Fn::Sub": "".join("${%s}-" % n for n in ns)}),
        st.just({"Fn::GetAtt": ["Key", "Arn"]}), st.just({"Fn::GetAtt": "Key.Arn"}))


def _cfn_extend(inner):
    cond = st.integers(0, 2).map(lambda i: f"C{i}")
    return st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "Ref", "Fn::Sub"]), inner, max_size=2),
        st.tuples(inner, st.lists(inner, max_size=3)).map(lambda t: {"Fn::Join": [t[0], t[1]]}),
        st.tuples(inner, inner).map(lambda t: {"Fn::Join": [t[0], t[1]]}),
        st.tuples(st.sampled_from(["${x}${x}", "${x}.${P1}", "${ x }"]), inner).map(lambda t: {"Fn::Sub": [t[0], {"x": t[1]}]}),
        st.tuples(inner, inner).map(lambda t: {"Fn::Select": [t[0], t[1]]}),
        st.tuples(inner, inner).map(lambda t: {"Fn::Split": [t[0], t[1]]}),
        st.tuples(cond, inner, inner).map(lambda t: {"Fn::If": list(t)}),
        st.tuples(inner, inner).map(lambda t: {"Fn::Equals": list(t)}),
        st.lists(inner, max_size=3).map(lambda xs: {"Fn::And": xs}),
        st.lists(inner, max_size=3).map(lambda xs: {"Fn::Or": xs}),
        inner.map(lambda x: {"Fn::Not": [x]}), inner.map(lambda x: {"Condition": x}),
        st.tuples(inner, inner).map(lambda t: {"Fn::FindInMap": ["M", t[0], t[1]]}),
        inner.map(lambda x: {"Fn::ToJsonString": x}), inner.map(lambda x: {"Fn::Base64": x}),
        inner.map(lambda x: {"Fn::ImportValue": x}), inner.map(lambda x: {"Fn::GetAZs": x}))


cfn_value = st.recursive(_cfn_leaves(), _cfn_extend, max_leaves=20)


@st.composite
def cfn_resolving_template(draw) -> dict:
    """Parameters whose defaults refer to each other (cycles included), a mapping, conditions, and
    resources whose properties use all of them."""
    params = {f"P{i}": {"Type": draw(st.sampled_from(["String", "CommaDelimitedList", "Number", "List<String>"])),
                        "Default": draw(cfn_value)} for i in range(PARAMS)}
    mapping = {"a": {"b": draw(cfn_value), "x": draw(cfn_value)}, "x": {"x": draw(cfn_value)}}
    conditions = {f"C{i}": draw(cfn_value) for i in range(3)}
    key = {"Type": "AWS::KMS::Key", "Properties": {
        "Description": draw(cfn_value), "EnableKeyRotation": draw(cfn_value), "KeyPolicy": draw(cfn_value),
        "Tags": [{"Key": "env", "Value": draw(cfn_value)}], "PendingWindowInDays": draw(cfn_value)}}
    bucket = {"Type": "AWS::S3::Bucket", "Condition": "C0", "Properties": {
        "BucketName": draw(cfn_value), "BucketEncryption": draw(cfn_value)}}
    return {"Parameters": params, "Mappings": {"M": mapping}, "Conditions": conditions,
            "Resources": {"Key": key, "Bucket": bucket}}


# -- git diffs ------------------------------------------------------------------------------------
# Lines that look like the parts of a diff, and names git has to quote.
DIFF_LINES = ["x", "", "++ b/other", "+++ b/other", "--- a/other", "-- a/x", "@@ -1 +1 @@", "@@ -0,0 +1,3 @@",
              "\\ No newline at end of file", "diff --git a/x b/y", "Binary files a/x and b/y differ", "\t", " ",
              "é", "\r", "\x0b", "\u2028"]
name_char = st.sampled_from(list("ab ") + ["\t", '"', "\\", "é", "-", "\u202e", "*", "?", "#", "~", ":"])
file_name = st.lists(name_char, min_size=1, max_size=6).map(lambda cs: "f" + "".join(cs) + ".tf")


@st.composite
def git_change(draw) -> dict:
    """Files committed, then some of their lines rewritten and new files left untracked; the git
    config the user might have. Every line is unique, so the changed lines are exactly known."""
    names = draw(st.lists(file_name, min_size=1, max_size=4, unique=True))
    files = {}
    for n, name in enumerate(names):
        count = draw(st.integers(1, 8))
        files[name] = [f"{draw(st.sampled_from(DIFF_LINES))} {n}.{i}" for i in range(count)]
    changes = {}
    for name, lines in files.items():
        rewritten = draw(st.sets(st.integers(0, len(lines) - 1), max_size=len(lines)))
        if rewritten:
            changes[name] = {i + 1: f"{draw(st.sampled_from(DIFF_LINES))} new {i}" for i in rewritten}
    untracked = [n for n in draw(st.lists(file_name, max_size=2, unique=True)) if n not in files]
    config = draw(st.lists(st.sampled_from([("diff.noprefix", "true"), ("diff.mnemonicPrefix", "true"),
                                            ("color.diff", "always"), ("diff.relative", "true"),
                                            ("core.quotePath", "true"), ("diff.renames", "copies")]),
                           max_size=3, unique=True))
    return {"files": files, "changes": changes, "untracked": untracked, "config": config,
            "eol": draw(st.sampled_from(["\n", "\r\n"])), "final_newline": draw(st.booleans())}
