"""CloudFormation fixes (scanner/sources/cloudformation/fix.py): a rule's fix.set as edits of a template.

The fixture tests take every failing CloudFormation fixture of the rules that have a `set`,
fix each annotated resource, scan the edited template again and check the finding is gone,
the comments are all still there, and the diff touches no line it need not.
"""
from __future__ import annotations

import difflib
import json

import pytest
from conftest import FIXED_NOW, FIXTURES
from fixture_support import expectations, findings

from certwarden.rulepack import fix_values, load_rules
from certwarden.sources.cloudformation import template as cfn
from certwarden.sources.attrmap import ACL, BOOL, INT, UPPER
from certwarden.sources.cloudformation.fix import edits_for
from certwarden.sources.cloudformation.template import TYPES
from certwarden.sources.edits import apply
from certwarden.sources.loader import load

RULES = {r.code: r for r in load_rules()}
FIX_RULES = sorted(code for code, r in RULES.items() if (r.fix or {}).get("set") and "cfn" in r.sources)
# Every CloudFormation fixture of theirs that annotates a finding (cfn_fail*, cfn_crl_escalated).
CASES = [(code, entry) for code in FIX_RULES for entry in sorted((FIXTURES / code).glob("cfn_*"))
         if not entry.name.endswith(".expect.yaml") and expectations(entry)]
# Findings the rule's `set` does not address: the CA already writes its CRL with
# BUCKET_OWNER_FULL_CONTROL; the bucket it writes to is what is public (CW401 fixes that one).
# The default certificate negotiates TLSv1 whatever the minimum says (the fix's `when` keeps the
# set off it in a scan).
NOT_BY_SET = {("CW304", "PublicBucketCA")}
# Declined: a classic load balancer's negotiation policy, an HTTP API's list of domain name
# configurations, a SAM API's Domain (the transform writes the domain name resource).
DECLINED = {("CW601", "Classic"), ("CW603", "HttpApi"), ("CW603", "SamApi"), ("CW603", "SamHttpApi")}
# Not asked: the default certificate (or none) negotiates TLSv1 whatever the minimum says; the
# fix's `when` keeps the set off them in a scan (tests/test_value_fixes.py).
NOT_ASKED = {("CW602", "DefaultCertificate"), ("CW602", "NoViewerCertificate")}
# Fixed in the helper resource that writes the attribute: the secret's rotation schedule.
HELPER = {("CW502", "Slow"): "SlowSchedule", ("CW502", "Yearly"): "YearlySchedule"}


def values_of(code: str) -> dict:
    """The rule's fix.set with its default policy values."""
    return fix_values(RULES[code].fix, RULES[code].params)


def fixed(text: str, resource: str, values: dict, file: str = "t.yaml") -> str:
    edits = edits_for(file, text, resource, values)
    assert edits is not None, f"{resource}: no edits"
    return apply(text, edits)


def touched_lines(before: str, after: str) -> tuple[set[int], int]:
    """Original lines (1-based) the diff changes or removes, and how many lines it adds."""
    a, b = before.splitlines(), after.splitlines()
    changed, added = set(), 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            changed.update(range(i1 + 1, i2 + 1))
        if op in ("replace", "insert"):
            added += (j2 - j1) - (i2 - i1 if op == "replace" else 0)
    return changed, added


def assert_minimal(before: str, after: str, edits) -> None:
    """Only the lines of edits change (a replaced value, a member inserted inline); whole lines
    inserted change none."""
    may_change = {e.line for e in edits if not (e.column == 1 and e.text.endswith("\n"))}
    changed, added = touched_lines(before, after)
    assert changed <= may_change
    assert added == sum(e.text.count("\n") for e in edits)
    for line in before.splitlines():
        if line.strip().startswith(("#", "//")):
            assert line in after.splitlines(), f"comment lost: {line!r}"


# -- every failing fixture of the rules with a `set` ---------------------------------------------
def test_the_rules_with_a_set():
    assert FIX_RULES == ["CW101", "CW102", "CW105", "CW210", "CW211", "CW301", "CW302", "CW303", "CW304",
                         "CW308", "CW401", "CW402", "CW502", "CW601", "CW602", "CW603"]


@pytest.mark.parametrize("code,entry", CASES, ids=[f"{c}/{e.name}" for c, e in CASES])
def test_fix_removes_the_fixture_finding(code, entry, tmp_path):
    text = entry.read_text(encoding="utf-8")
    values = values_of(code)
    expected = expectations(entry)
    edits = []
    for _, resource, _, _ in sorted(expected):
        if (code, resource) in NOT_ASKED:
            continue
        mine = edits_for(str(entry), text, resource, values)
        if (code, resource) in DECLINED:
            assert mine is None
            continue
        assert mine is not None, f"{resource}: no edits"
        assert (mine == []) == ((code, resource) in NOT_BY_SET)
        edits += mine
    after = apply(text, edits)   # the resources' edits do not overlap: all at once
    assert_minimal(text, after, edits)
    out = tmp_path / entry.name
    out.write_text(after, encoding="utf-8")
    left = {(c, r) for c, r, _, _ in findings(out, code, FIXED_NOW)}
    assert left == {(c, r) for c, r, _, _ in expected if (c, r) in NOT_BY_SET | DECLINED | NOT_ASKED}


@pytest.mark.parametrize("code,entry", CASES, ids=[f"{c}/{e.name}" for c, e in CASES])
def test_fix_of_one_resource_leaves_the_others(code, entry):
    text = entry.read_text(encoding="utf-8")
    for _, resource, _, _ in sorted(expectations(entry)):
        if (code, resource) in NOT_ASKED:
            continue
        edits = edits_for(str(entry), text, resource, values_of(code))
        if edits is None:
            assert (code, resource) in DECLINED
            continue
        after = apply(text, edits)
        assert_minimal(text, after, edits)
        docs_before, docs_after = load(text.encode()), load(after.encode())
        for name in docs_before["Resources"]:
            if name not in (resource, HELPER.get((code, resource))):
                assert docs_after["Resources"][name] == docs_before["Resources"][name]


# -- the fix writes what the reader reads back: one attribute map serves both -----------------------
# A value of each attribute's kind; booleans as false, which the fixture tests never write.
STRING_SAMPLES = {"key_algorithm": "RSA_4096", "key_storage_security_standard": "FIPS_140_2_LEVEL_3_OR_HIGHER",
                  "crl_object_acl": "BUCKET_OWNER_FULL_CONTROL", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                  "minimum_protocol_version": "TLSv1.2_2021"}
FIXABLE = [(t, a) for t, spec in TYPES.items() for a in spec.attrs if spec.fix_path(a) is not None]


def _sample(attr: str, conv):
    return {BOOL: False, INT: 30, ACL: "public-read", UPPER: "SAMPLE"}.get(conv, STRING_SAMPLES.get(attr, "sample"))


def test_the_maps_make_the_fixes_the_rules_ask_for():
    assert {("AWS::KMS::Key", "rotation_enabled"), ("AWS::S3::Bucket", "block_public_acls"), ("AWS::S3::Bucket", "acl"),
            ("AWS::ACMPCA::CertificateAuthority", "crl_object_acl")} <= set(FIXABLE)


@pytest.mark.parametrize("rtype,attr", FIXABLE)
@pytest.mark.parametrize("form", ["yaml", "json"])
def test_the_fix_writes_what_the_reader_reads_back(rtype, attr, form):
    value = _sample(attr, TYPES[rtype].fix_path(attr).conv)
    if form == "yaml":
        text = f"Resources:\n  R:\n    Type: {rtype}\n"
    else:
        text = json.dumps({"Resources": {"R": {"Type": rtype}}}, indent=2) + "\n"
    after = fixed(text, "R", {attr: value})
    graph = cfn.build("t", load(after.encode()))
    assert graph.nodes["R"].attrs[attr] == value


def test_acl_is_written_as_cloudformation_spells_it():
    text = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicRead\n"
    assert fixed(text, "B", {"acl": "bucket-owner-full-control"}).endswith(
        "AccessControl: BucketOwnerFullControl\n")


# -- YAML layout ---------------------------------------------------------------------------------
KEY = """\
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: demo   # a description
      EnableKeyRotation: false  # TODO turn on
      PendingWindowInDays: 7
"""


def test_comment_on_the_replaced_line_stays():
    after = fixed(KEY, "Key", {"rotation_enabled": True})
    assert "      EnableKeyRotation: true  # TODO turn on\n" in after
    assert touched_lines(KEY, after) == ({6}, 0)


def test_missing_key_goes_after_its_last_sibling():
    after = fixed(KEY, "Key", {"rotation_period_days": 365})
    assert after == KEY + "      RotationPeriodInDays: 365\n"


def test_value_already_set_needs_no_edit():
    text = KEY.replace("false  #", '"true"  #')
    assert edits_for("t", text, "Key", {"rotation_enabled": True}) == []


def test_quoted_string_keeps_its_quotes():
    text = "Resources:\n  CA:\n    Type: AWS::ACMPCA::CertificateAuthority\n    Properties:\n" \
           "      KeyAlgorithm: 'RSA_2048'  # weak\n      Type: ROOT\n"
    assert "      KeyAlgorithm: 'RSA_4096'  # weak\n" in fixed(text, "CA", {"key_algorithm": "RSA_4096"})


def test_string_that_yaml_would_misread_is_quoted():
    text = "Resources:\n  CA:\n    Type: AWS::ACMPCA::CertificateAuthority\n    Properties:\n      Type: ROOT\n"
    after = fixed(text, "CA", {"key_algorithm": "yes"})   # bare, YAML 1.1 reads a boolean
    assert after.endswith('      KeyAlgorithm: "yes"\n')


def test_flow_style_mapping_replace_and_insert():
    text = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n" \
           "    Properties: {EnableKeyRotation: false, PendingWindowInDays: 7}  # flow\n"
    after = fixed(text, "Key", {"rotation_enabled": True, "pending_window_days": 30,
                                "rotation_period_days": 365})
    assert after.splitlines()[3] == \
        "    Properties: {RotationPeriodInDays: 365, EnableKeyRotation: true, PendingWindowInDays: 30}  # flow"


def test_empty_flow_mapping_gets_its_member():
    text = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: {}\n"
    assert fixed(text, "B", {"acl": "private"}).endswith("    Properties: {AccessControl: Private}\n")


def test_properties_and_intermediate_mappings_are_created():
    text = "Resources:\n  CA:\n    Type: AWS::ACMPCA::CertificateAuthority\n  Other:\n    Type: AWS::S3::Bucket\n"
    after = fixed(text, "CA", {"ocsp_enabled": True})
    assert after == ("Resources:\n  CA:\n    Type: AWS::ACMPCA::CertificateAuthority\n"
                     "    Properties:\n      RevocationConfiguration:\n        OcspConfiguration:\n"
                     "          Enabled: true\n  Other:\n    Type: AWS::S3::Bucket\n")


def test_indentation_of_the_file_is_followed():
    text = "Resources:\n    Key:\n        Type: AWS::KMS::Key\n        Properties:\n            Description: x\n"
    after = fixed(text, "Key", {"rotation_enabled": True})
    assert after.endswith("            Description: x\n            EnableKeyRotation: true\n")
    text = "Resources:\n    B:\n        Type: AWS::S3::Bucket\n"
    after = fixed(text, "B", {"block_public_acls": True})
    assert after.endswith("        Properties:\n            PublicAccessBlockConfiguration:\n"
                          "                BlockPublicAcls: true\n")


def test_insertions_into_nested_mappings_ending_on_one_line():
    text = "Resources:\n  CA:\n    Type: AWS::ACMPCA::CertificateAuthority\n    Properties:\n" \
           "      RevocationConfiguration:\n        CrlConfiguration:\n          Enabled: true\n" \
           "  # next\n  B:\n    Type: AWS::S3::Bucket\n"
    after = fixed(text, "CA", {"crl_object_acl": "BUCKET_OWNER_FULL_CONTROL", "key_algorithm": "RSA_4096"})
    assert after.splitlines()[6:10] == ["          Enabled: true", "          S3ObjectAcl: BUCKET_OWNER_FULL_CONTROL",
                                        "      KeyAlgorithm: RSA_4096", "  # next"]


def test_nested_insertions_at_the_end_of_a_file_without_newline():
    text = "Resources:\n  CA:\n    Type: AWS::ACMPCA::CertificateAuthority\n    Properties:\n" \
           "      RevocationConfiguration:\n        CrlConfiguration:\n          Enabled: true"
    edits = edits_for("t", text, "CA", {"crl_object_acl": "BUCKET_OWNER_FULL_CONTROL", "key_algorithm": "RSA_4096"})
    assert len(edits) == 1   # one insertion: inner mapping's line, then the outer one's
    assert apply(text, edits) == text + "\n          S3ObjectAcl: BUCKET_OWNER_FULL_CONTROL\n      KeyAlgorithm: RSA_4096"


def test_last_line_without_newline_and_crlf():
    text = "Resources:\n  Key:\n    Type: AWS::KMS::Key"
    assert fixed(text, "Key", {"rotation_enabled": True}) == text + "\n    Properties:\n      EnableKeyRotation: true"
    text = "Resources:\r\n  Key:\r\n    Type: AWS::KMS::Key\r\n"
    assert fixed(text, "Key", {"rotation_enabled": True}) == \
        text + "    Properties:\r\n      EnableKeyRotation: true\r\n"


def test_block_scalar_as_last_value():
    text = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      Description: |\n        two\n        lines\n\n"
    after = fixed(text, "Key", {"rotation_enabled": True})
    # The scalar's text ends with its trailing blank line (clip chomping drops it either way).
    assert after == text + "      EnableKeyRotation: true\n"
    assert load(after.encode())["Resources"]["Key"]["Properties"]["Description"] == "two\nlines\n"


def test_multi_document_stream_edits_the_resource_document():
    text = "Resources:\n  A:\n    Type: AWS::KMS::Key\n---\nResources:\n  B:\n    Type: AWS::KMS::Key\n...\n"
    after = fixed(text, "B", {"rotation_enabled": True})
    assert after.endswith("  B:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n...\n")


# -- JSON ----------------------------------------------------------------------------------------
def _json_template(resource: dict, **dump) -> str:
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"R": resource}}, **dump) + "\n"


@pytest.mark.parametrize("dump", [{"indent": 2}, {"indent": 4}, {"indent": "\t"}, {}], ids=["2", "4", "tab", "one-line"])
def test_json_new_members_and_mappings(dump, tmp_path):
    text = _json_template({"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "crl"}}, **dump)
    values = RULES["CW401"].fix["set"]
    edits = edits_for("t.json", text, "R", values)
    after = apply(text, edits)
    assert_minimal(text, after, edits)
    # Laid out as json.dumps lays out the file, the new member first.
    block = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}
    assert after == _json_template({"Type": "AWS::S3::Bucket", "Properties": {
        "PublicAccessBlockConfiguration": block, "BucketName": "crl"}}, **dump)
    out = tmp_path / "t.json"
    out.write_text(after)
    assert not findings(out, "CW401", FIXED_NOW)


def test_json_properties_created_with_the_file_indentation():
    text = _json_template({"Type": "AWS::KMS::Key"}, indent=2)
    after = fixed(text, "R", {"rotation_enabled": True}, "t.json")
    assert '    "R": {\n      "Properties": {\n        "EnableKeyRotation": true\n      },\n      "Type"' in after


def test_json_value_replaced_in_place():
    text = _json_template({"Type": "AWS::ACMPCA::CertificateAuthority",
                           "Properties": {"KeyAlgorithm": "RSA_2048", "Type": "ROOT"}}, indent=2)
    after = fixed(text, "R", {"key_algorithm": "RSA_4096"})
    assert after == text.replace('"RSA_2048"', '"RSA_4096"')


def test_json_with_a_byte_order_mark():
    text = '\ufeff{"Resources": {"R": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": false}}}}'
    assert fixed(text, "R", {"rotation_enabled": True, "pending_window_days": 30}) == text.replace(
        '{"EnableKeyRotation": false}', '{"PendingWindowInDays": 30, "EnableKeyRotation": true}')


def test_json_empty_properties():
    text = '{"Resources": {"R": {"Type": "AWS::KMS::Key", "Properties": {}}}}'
    assert fixed(text, "R", {"pending_window_days": 30}) == \
        '{"Resources": {"R": {"Type": "AWS::KMS::Key", "Properties": {"PendingWindowInDays": 30}}}}'


# -- what it declines --------------------------------------------------------------------------------
PARAM = "Parameters:\n  On:\n    Type: String\n    Default: 'false'\nConditions:\n  Prod: !Equals [a, a]\n"


@pytest.mark.parametrize("props", [
    "      EnableKeyRotation: !If [Prod, true, false]\n",
    "      EnableKeyRotation: !Ref On\n",
    "      EnableKeyRotation:\n        Fn::If: [Prod, true, false]\n",
    "      Fn::Transform:\n        Name: AWS::Include\n        Parameters: {Location: s3://b/props.yaml}\n",
], ids=["short-if", "ref-parameter", "long-if", "included-properties"])
def test_intrinsic_in_the_way(props):
    text = PARAM + "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n" + props
    assert edits_for("t", text, "Key", {"rotation_enabled": True}) is None


def test_intrinsic_holding_the_properties_or_a_parent():
    text = PARAM + "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties: !If [Prod, {}, {}]\n"
    assert edits_for("t", text, "Key", {"rotation_enabled": True}) is None
    text = PARAM + "Resources:\n  CA:\n    Type: AWS::ACMPCA::CertificateAuthority\n    Properties:\n" \
                   "      RevocationConfiguration: !If [Prod, {OcspConfiguration: {Enabled: true}}, !Ref AWS::NoValue]\n"
    assert edits_for("t", text, "CA", {"ocsp_enabled": True}) is None


@pytest.mark.parametrize("text,resource,values", [
    (KEY, "Key", {"acl": "private"}),                       # not an attribute of a KMS key
    (KEY, "Key", {"rotation_enabled": "yes"}),              # not a boolean
    (KEY, "Missing", {"rotation_enabled": True}),           # not in this file (nested stack, other file)
    ("Resources:\n  S:\n    Type: AWS::CloudFormation::Stack\n", "S", {"rotation_enabled": True}),
    (KEY + "---\n" + KEY, "Key", {"rotation_enabled": True}),   # which document's?
    ("Resources: [\n", "Key", {"rotation_enabled": True}),   # not YAML
    (KEY.replace("    Properties:\n", "    Properties: &p\n"), "Key", {"rotation_period_days": 365}),
    (KEY.replace("false  # TODO turn on", "\n        false"), "Key", {"rotation_enabled": True}),
    (KEY, "Key", {}),
], ids=["unknown-attr", "bad-value", "missing-resource", "unknown-type", "two-documents", "invalid",
        "anchored-mapping", "value-on-next-line", "nothing-asked"])
def test_declines(text, resource, values):
    assert edits_for("t", text, resource, values) is None
