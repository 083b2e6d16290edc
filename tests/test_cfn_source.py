"""The CloudFormation adapter: intrinsics, parameters, conditions, edges, SAM and CDK output."""
import json

from conftest import FIXED_NOW

from certwarden.model import SELF_ACCOUNT, Unresolved
from certwarden.rulepack import load_rules
from certwarden.options import Options
from certwarden.scan import scan
from certwarden.sources.cloudformation import template as cfn
from certwarden.sources.cloudformation.resolve import ResRef, Resolver
from certwarden.sources.loader import load

TEMPLATE = b"""
Parameters:
  Env: {Type: String, Default: prod}
  NoDefault: {Type: String}
  Zones: {Type: CommaDelimitedList, Default: "a, b"}
Mappings:
  Rotation: {prod: {enabled: "true"}, dev: {enabled: "false"}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsUnknown: !Equals [!Ref NoDefault, x]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Key:
    Type: AWS::KMS::Key
    Condition: IsProd
    Properties:
      EnableKeyRotation: !FindInMap [Rotation, !Ref Env, enabled]
      Description: !Sub "${Env}-key in ${AWS::AccountId}"
"""


def resolver():
    return Resolver(load(TEMPLATE))


def test_intrinsics_resolve_with_parameter_defaults():
    r = resolver()
    assert r.resolve({"Ref": "Env"}) == "prod"
    assert r.resolve({"Ref": "Zones"}) == ["a", "b"]
    assert r.resolve({"Fn::Sub": "${Env}-key in ${AWS::AccountId}"}) == f"prod-key in {SELF_ACCOUNT}"
    assert r.resolve({"Fn::Join": ["-", ["a", {"Ref": "Env"}]]}) == "a-prod"
    assert r.resolve({"Fn::If": ["IsProd", 1, 2]}) == 1
    assert r.resolve({"Fn::Select": [1, {"Ref": "Zones"}]}) == "b"
    assert r.resolve({"Fn::FindInMap": ["Rotation", "dev", "enabled"]}) == "false"
    assert r.resolve({"Ref": "Bucket"}) == ResRef("Bucket")
    assert r.resolve({"Fn::GetAtt": ["Bucket", "Arn"]}) == ResRef("Bucket", "Arn")
    assert r.resolve({"Fn::GetAtt": "Bucket.Arn"}) == ResRef("Bucket", "Arn")
    assert r.resolve({"Fn::ToJsonString": {"a": {"Ref": "Env"}}}) == '{"a": "prod"}'
    assert r.resolve({"Fn::And": [{"Condition": "IsUnknown"}, False]}) is False


def test_unknowns_stay_unresolved():
    r = resolver()
    for expr in ({"Ref": "NoDefault"}, {"Fn::Sub": "${NoDefault}"}, {"Fn::If": ["IsUnknown", 1, 2]},
                 {"Fn::ImportValue": "x"}, {"Ref": "AWS::Region"}, {"Fn::Sub": "${Bucket.Arn}"},
                 {"Fn::Join": ["", [{"Ref": "Bucket"}]]}):
        assert isinstance(r.resolve(expr), Unresolved), expr
    assert r.resolve({"Fn::If": ["IsUnknown", 1, 1]}) == 1, "both branches agree"


def test_no_value_drops_the_property():
    r = resolver()
    assert r.resolve({"A": {"Ref": "AWS::NoValue"}, "B": 1}) == {"B": 1}


def test_conditional_resources_are_scanned_and_mapped_values_used():
    graph = cfn.build("t.yaml", load(TEMPLATE))
    key = graph.nodes["Key"]
    assert key.attrs["rotation_enabled"] is True
    assert (key.spots["rotation_enabled"].line, key.spots["rotation_enabled"].column) == (18, 7)


def test_sam_template_resources_are_scanned(tmp_path):
    (tmp_path / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n"
        "      Runtime: python3.12\n      CodeUri: src/\n  AppKey:\n    Type: AWS::KMS::Key\n")
    result = scan([str(tmp_path)], load_rules(), Options(now=FIXED_NOW))
    assert {(f.code, f.resource, f.where.line) for f in result.findings} == {
        ("CW101", "AppKey", 10), ("CW107", "AppKey", 10)}


def test_cdk_synth_output_is_detected_by_content(tmp_path):
    out = tmp_path / "cdk.out"
    out.mkdir()
    doc = {"Resources": {"KeyABC123": {"Type": "AWS::KMS::Key", "Properties": {
        "EnableKeyRotation": True, "PendingWindowInDays": 7, "Tags": [{"Key": "Environment", "Value": "dev"}]},
        "Metadata": {"aws:cdk:path": "Stack/Key/Resource"}}},
        "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>",
                                            "Default": "/cdk-bootstrap/hnb659fds/version"}}}
    (out / "Stack.template.json").write_text(json.dumps(doc, indent=1))
    result = scan([str(tmp_path)], load_rules(), Options(now=FIXED_NOW))
    assert [(f.code, f.resource, f.where.line) for f in result.findings] == [("CW105", "KeyABC123", 7)]


def test_template_without_extension_is_detected_and_other_yaml_ignored(tmp_path):
    (tmp_path / "stack").write_text("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n"
                                    "      EnableKeyRotation: false\n")
    (tmp_path / "k8s.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata: {Resources: x}\n")
    (tmp_path / "workflow.yml").write_text("on: push\njobs: {build: {runs-on: ubuntu}}\n")
    result = scan([str(tmp_path)], load_rules(), Options(now=FIXED_NOW))
    assert not result.errors and result.scanned == 1
    assert {(f.code, f.where.line) for f in result.findings} >= {("CW101", 5)}


def test_the_adapter_reads_metadata_suppressions_and_each_stream_documents_lines(tmp_path):
    """Suppressions written in the template's data are read where the format is known; a YAML
    stream's units say which lines (and so which comments) are theirs."""
    from certwarden.model import Ignore
    from certwarden.sources.units import LAST_LINE, read_file

    key = "Resources:\n  K:\n    Type: AWS::KMS::Key\n"
    meta = key + ("    Metadata:\n      certwarden:\n        ignore:\n"
                  "          - {code: CW101, reason: rotated by hand, until: 2030-01-31}\n")
    (tmp_path / "s.yaml").write_text(meta + "---\n# a comment of the second\n" + key)
    graphs, errors = read_file(str(tmp_path / "s.yaml"))
    assert errors == []
    assert [g.ignores for g in graphs] == [[Ignore(str(tmp_path / "s.yaml"), 7, "K", ("CW101",), "rotated by hand",
                                                   "2030-01-31")], []]
    assert [g.lines for g in graphs] == [(1, 7), (8, LAST_LINE)]
    (tmp_path / "one.yaml").write_text(key)
    assert read_file(str(tmp_path / "one.yaml"))[0][0].lines is None
