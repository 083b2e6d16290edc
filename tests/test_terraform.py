"""Terraform: modules, variables, broken files, plan files, and parity with CloudFormation."""
import json
import re
import string
from pathlib import Path

import pytest

from conftest import FIXED_NOW, FIXTURES, SHARED, needs_shared
from fixture_support import TF_PENDING, fixture_config

from certwarden.report import sarif
from certwarden.rulepack import load_rules, select
from certwarden.options import Options
from certwarden.scan import scan

RULES = {r.code: r for r in load_rules()}


def run(paths, codes=None, **kw):
    rules = select(load_rules(), codes, None) if codes else load_rules()
    return scan([str(p) for p in paths], rules, Options(now=FIXED_NOW, **kw))


def write(root: Path, files: dict) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def found(result):
    return {(f.code, f.resource, Path(f.where.file).name, f.where.line) for f in result.findings}


# -- parity: the same misconfiguration reads the same in both formats ---------------------
def _shape(rule):
    """The rule's message template as a pattern: the fixed words must match exactly."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(rule.message):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(".+?")
    return re.compile("^" + "".join(parts) + "$")


@pytest.mark.parametrize("code", sorted(c for c, r in RULES.items()
                                        if {"cfn", "tf"} <= set(r.sources) and c not in TF_PENDING))
def test_terraform_and_cloudformation_fixtures_agree(code):
    def fail(entry):   # with the policy the fixture asks for (CW802's trusted accounts, CW206's profile)
        return run([entry], [code], config=fixture_config(entry, code, list(RULES.values()))).findings
    cfn, tf = fail(FIXTURES / code / "cfn_fail.yaml"), fail(FIXTURES / code / "tf_fail")
    assert cfn and tf
    assert {(f.code, f.severity) for f in cfn} == {(f.code, f.severity) for f in tf} == {(code, RULES[code].severity)}
    shape = _shape(RULES[code])
    for f in cfn + tf:
        assert shape.match(f.message), f.message
        assert not f.review


# -- modules, variables, errors --------------------------------------------------------------
PKI_CHILD = """
variable "key_algorithm" {
  default = "RSA_4096"
}

resource "aws_acmpca_certificate_authority" "root" {
  type = "ROOT"
  certificate_authority_configuration {
    key_algorithm     = var.key_algorithm
    signing_algorithm = "SHA256WITHRSA"
    subject {
      common_name = "Root"
    }
  }
}
"""


def test_local_module_followed_with_its_inputs_and_addressed(tmp_path):
    write(tmp_path, {
        "main.tf": 'module "pki" {\n  source        = "./modules/pki"\n  key_algorithm = "RSA_2048"\n}\n'
                   'module "net" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n',
        "modules/pki/main.tf": PKI_CHILD,
    })
    result = run([tmp_path / "main.tf", tmp_path / "modules/pki/main.tf"], ["CW302"])
    # Through the call: the input wins over the default; on its own the module passes.
    assert found(result) == {("CW302", "module.pki.aws_acmpca_certificate_authority.root", "main.tf", 9)}
    assert result.errors == []
    assert result.notices == [f"{tmp_path / 'main.tf'}:5: module.net comes from "
                              "'terraform-aws-modules/vpc/aws', a remote module, not scanned"]
    doc = json.loads(sarif.render(result))
    [res] = doc["runs"][0]["results"]
    assert res["locations"][0]["logicalLocations"][0]["name"] == "module.pki.aws_acmpca_certificate_authority.root"


def test_module_that_calls_itself_stops(tmp_path):
    write(tmp_path, {"main.tf": 'module "again" {\n  source = "./"\n}\nresource "aws_kms_key" "k" {}\n'})
    result = run([tmp_path], ["CW101"])
    assert found(result) == {("CW101", "aws_kms_key.k", "main.tf", 4)}
    [notice] = result.notices
    assert "module.again not followed" in notice


def test_module_loop_through_a_directory_link_stops_at_the_first_call(tmp_path):
    """The loop check compares real paths (resolved once a process): a call to a link back to
    the caller is the caller itself, refused at once, not followed to the depth limit."""
    write(tmp_path, {"main.tf": 'module "again" {\n  source = "./back"\n}\nresource "aws_kms_key" "k" {}\n'})
    (tmp_path / "back").symlink_to(tmp_path, target_is_directory=True)
    result = run([tmp_path], ["CW101"])
    assert found(result) == {("CW101", "aws_kms_key.k", "main.tf", 4)}
    assert [n for n in result.notices if "module.again" in n] == [
        f"{tmp_path / 'main.tf'}:1: module.again not followed (nesting deeper than 5 or a loop)"]


def test_broken_file_is_one_error_and_the_rest_is_scanned(tmp_path):
    write(tmp_path, {
        "good.tf": 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n',
        "bad.tf": 'resource "aws_kms_key" "x" {\n  enable_key_rotation = true\n  = broken\n}\n',
    })
    result = run([tmp_path], ["CW101"])
    assert found(result) == {("CW101", "aws_kms_key.k", "good.tf", 2)}
    [err] = result.errors
    assert err.file.endswith("bad.tf") and err.line == 3 and "\n" not in str(err)


VARIABLE_KEY = 'variable "rotate" {}\nresource "aws_kms_key" "k" {\n  enable_key_rotation = var.rotate\n}\n'


def test_unresolved_variable_never_finds_but_strict_reviews(tmp_path):
    write(tmp_path, {"main.tf": VARIABLE_KEY})
    assert run([tmp_path], ["CW101"]).findings == []
    [review] = run([tmp_path], ["CW101"], strict=True).findings
    assert review.review and "variable rotate has no value" in review.message


def test_tfvars_auto_tfvars_and_var_file_in_order(tmp_path):
    write(tmp_path, {"main.tf": VARIABLE_KEY, "terraform.tfvars": "rotate = true\n"})
    assert run([tmp_path], ["CW101"]).findings == []
    (tmp_path / "z.auto.tfvars").write_text("rotate = false\n")
    assert found(run([tmp_path], ["CW101"])) == {("CW101", "aws_kms_key.k", "main.tf", 3)}
    override = tmp_path / "prod.tfvars.json"
    override.write_text('{"rotate": true}')
    assert run([tmp_path], ["CW101"], var_files=(str(override),)).findings == []


def test_var_file_option_on_the_command_line(tmp_path, run_cli):
    write(tmp_path, {"mod/main.tf": VARIABLE_KEY, "off.tfvars": "rotate = false\n"})
    code, out, _ = run_cli("scan", tmp_path / "mod", "--select", "CW101", "--var-file", tmp_path / "off.tfvars", "-q")
    assert code == 1 and "aws_kms_key.k" in out
    code, out, _ = run_cli("scan", tmp_path / "mod", "--select", "CW101", "-q")
    assert code == 0


def test_interpolation_locals_and_references_fold_helpers(tmp_path):
    write(tmp_path, {"main.tf": """
locals {
  env = "prod"
}
resource "aws_s3_bucket" "b" {
  bucket = "crl-${local.env}"
}
resource "aws_s3_bucket_acl" "b" {
  bucket = "crl-prod"
  acl    = "public-read"
}
resource "aws_acmpca_certificate_authority" "ca" {
  certificate_authority_configuration {
    key_algorithm     = "RSA_4096"
    signing_algorithm = "SHA256WITHRSA"
    subject {
      common_name = "x"
    }
  }
  revocation_configuration {
    crl_configuration {
      enabled        = true
      s3_bucket_name = aws_s3_bucket.b.bucket
      s3_object_acl  = "BUCKET_OWNER_FULL_CONTROL"
    }
  }
}
"""})
    result = run([tmp_path], ["CW402", "CW304"])
    # The ACL names the bucket by its interpolated name; the CA writes its CRL there.
    assert {(f.code, f.resource, f.severity) for f in result.findings} == {
        ("CW402", "aws_s3_bucket.b", "critical"),      # raised: the bucket holds a CRL
        ("CW304", "aws_acmpca_certificate_authority.ca", "high")}


def test_other_kinds_are_built(tmp_path):
    from certwarden.sources.units import read_module
    write(tmp_path, {"main.tf": """
resource "aws_acm_certificate" "imported" {
  certificate_body = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"
  private_key      = var.key
  lifecycle {
    create_before_destroy = true
  }
}
resource "aws_lb_listener" "https" {
  protocol   = "https"
  ssl_policy = "ELBSecurityPolicy-2016-08"
}
resource "aws_cloudfront_distribution" "cdn" {
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}
resource "aws_apigatewayv2_domain_name" "d" {
  domain_name_configuration {
    security_policy = "TLS_1_2"
  }
}
resource "aws_secretsmanager_secret" "s" {}
resource "aws_secretsmanager_secret_rotation" "s" {
  secret_id = aws_secretsmanager_secret.s.id
  rotation_rules {
    automatically_after_days = 30
  }
}
resource "aws_cloudhsm_v2_cluster" "c" {}
resource "aws_cloudhsm_v2_hsm" "a" {
  cluster_id        = aws_cloudhsm_v2_cluster.c.cluster_id
  availability_zone = "eu-west-1a"
}
resource "aws_cloudwatch_event_rule" "r" {
  event_pattern = jsonencode({ source = ["aws.acm"], "detail-type" = ["ACM Certificate Approaching Expiration"] })
}
resource "aws_config_config_rule" "c" {
  source {
    owner             = "AWS"
    source_identifier = "ACM_CERTIFICATE_EXPIRATION_CHECK"
  }
}
"""})
    [graph], errors, _ = read_module(str(tmp_path), [str(tmp_path / "main.tf")])
    nodes = graph.nodes
    assert errors == []
    acm = nodes["aws_acm_certificate.imported"].attrs
    assert acm["imported"] is True and acm["create_before_destroy"] is True
    assert acm["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----\n")
    assert nodes["aws_lb_listener.https"].attrs == {"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-2016-08"}
    assert nodes["aws_cloudfront_distribution.cdn"].attrs["default_certificate"] is True
    assert nodes["aws_apigatewayv2_domain_name.d"].attrs["security_policy"] == "TLS_1_2"
    assert nodes["aws_secretsmanager_secret.s"].attrs["rotation_interval_days"] == 30
    assert nodes["aws_cloudhsm_v2_cluster.c"].attrs == {"hsm_count": 1, "hsm_azs": ["eu-west-1a"]}
    rule = nodes["aws_cloudwatch_event_rule.r"].attrs
    assert rule["event_sources"] == ["aws.acm"] and rule["detail_types"] == ["ACM Certificate Approaching Expiration"]
    assert nodes["aws_config_config_rule.c"].attrs["source_identifier"] == "ACM_CERTIFICATE_EXPIRATION_CHECK"


@needs_shared("corpus", "tf")
def test_corpus_scans_without_errors():
    result = run([SHARED / "corpus" / "tf"])
    assert result.errors == []
    assert result.scanned > 100


def test_a_module_called_in_the_same_scan_is_read_through_its_caller_only(tmp_path):
    (tmp_path / "modules" / "key").mkdir(parents=True)
    (tmp_path / "modules" / "key" / "main.tf").write_text(
        'variable "rotate" {\n  default = false\n}\n'
        'resource "aws_kms_key" "this" {\n  enable_key_rotation = var.rotate\n}\n')
    (tmp_path / "main.tf").write_text(
        'module "safe" {\n  source = "./modules/key"\n  rotate = true\n}\n'
        'module "unsafe" {\n  source = "./modules/key"\n}\n')
    result = scan([str(tmp_path)], load_rules(), Options(now=FIXED_NOW))
    assert not result.errors
    assert [(f.code, f.resource) for f in result.findings if f.code == "CW101"] == [
        ("CW101", "module.unsafe.aws_kms_key.this")]
    # Given on its own, the module directory is a root like any other.
    alone = scan([str(tmp_path / "modules" / "key")], load_rules(), Options(now=FIXED_NOW))
    assert [(f.code, f.resource) for f in alone.findings if f.code == "CW101"] == [("CW101", "aws_kms_key.this")]


# -- file(), plans and certificate material ---------------------------------------------------
def _pem_files(root: Path) -> dict:
    """A test certificate and key (the CW212 fixture's certificate, a key generated here)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return {"cert.pem": (FIXTURES / "CW212" / "tf_fail" / "cert.pem").read_text(), "key.pem": key}


def test_file_reads_inside_the_scan_relative_to_the_root_module(tmp_path):
    from certwarden.sources.units import read_module
    files = _pem_files(tmp_path / "certs")
    write(tmp_path / "certs", files)
    write(tmp_path / "stack", {"main.tf": """
resource "aws_iam_server_certificate" "inside" {
  certificate_body = file("../certs/cert.pem")
}
resource "aws_iam_server_certificate" "module_path" {
  certificate_body = file("${path.module}/../certs/cert.pem")
}
resource "aws_iam_server_certificate" "missing" {
  certificate_body = file("../certs/none.pem")
}
"""})
    tf = str(tmp_path / "stack" / "main.tf")
    [graph], _, _ = read_module(str(tmp_path / "stack"), [tf], roots=(str(tmp_path),))
    for name in ("inside", "module_path"):
        assert graph.nodes[f"aws_iam_server_certificate.{name}"].attrs["certificate_pem"] == files["cert.pem"]
    assert "cannot be read" in graph.nodes["aws_iam_server_certificate.missing"].attrs["certificate_pem"].reason
    # Scanned on its own, ../certs is outside the scan: never read.
    [graph], _, _ = read_module(str(tmp_path / "stack"), [tf], roots=(str(tmp_path / "stack"),))
    assert "outside the scan" in graph.nodes["aws_iam_server_certificate.inside"].attrs["certificate_pem"].reason


def test_private_key_read_with_file_is_reported_once_at_its_own_file(tmp_path):
    write(tmp_path, _pem_files(tmp_path))
    write(tmp_path, {"main.tf": """
resource "aws_iam_server_certificate" "tls" {
  certificate_body = file("cert.pem")
  private_key      = file("key.pem")
}
resource "aws_ssm_parameter" "copy" {
  value = "${file("key.pem")}"
}
"""})
    result = run([tmp_path], ["CW504", "CW216"])
    assert found(result) == {("CW504", "key.pem", "key.pem", 1),
                             ("CW216", "aws_iam_server_certificate.tls", "main.tf", 2),
                             # text built around the file's content is the configuration's own string
                             ("CW504", "aws_ssm_parameter.copy", "main.tf", 7)}
    assert all("PRIVATE KEY" not in f.message for f in result.findings)


def test_plan_json_does_not_know_lifecycle(tmp_path):
    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [{
        "address": "aws_acm_certificate.www", "mode": "managed", "type": "aws_acm_certificate", "name": "www",
        "values": {"domain_name": "www.example.com", "validation_method": "DNS"}}]}}}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    result = run([tmp_path / "plan.json"], ["CW214", "CW210"], strict=True)
    assert [(f.code, f.review) for f in result.findings] == [("CW214", True)]


def test_aws_managed_key_looked_up_by_alias_is_the_aws_managed_key(tmp_path):
    write(tmp_path, {"main.tf": """
data "aws_kms_key" "managed" {
  key_id = "alias/aws/secretsmanager"
}
data "aws_kms_alias" "app" {
  name = "alias/app-secrets"
}
resource "aws_secretsmanager_secret" "managed" {
  kms_key_id = data.aws_kms_key.managed.arn
}
resource "aws_secretsmanager_secret" "customer" {
  kms_key_id = data.aws_kms_alias.app.target_key_arn
}
"""})
    result = run([tmp_path], ["CW503"], strict=True)
    assert [(f.resource, f.where.line, f.review) for f in result.findings] == [
        ("aws_secretsmanager_secret.managed", 9, False),
        ("aws_secretsmanager_secret.customer", 12, True)]   # a customer alias's key ARN: not known


def test_classic_listener_policy_made_elsewhere_or_dynamic_is_unknown(tmp_path):
    write(tmp_path, {"main.tf": """
variable "attributes" {}
resource "aws_elb" "lb" {
  listener {
    lb_port     = 443
    lb_protocol = "https"
  }
  listener {
    lb_port     = 8443
    lb_protocol = "ssl"
  }
  listener {
    lb_port     = 9443
    lb_protocol = "ssl"
  }
}
resource "aws_load_balancer_listener_policy" "elsewhere" {
  load_balancer_name = aws_elb.lb.name
  load_balancer_port = 443
  policy_names       = ["made-by-hand"]
}
resource "aws_lb_ssl_negotiation_policy" "dynamic" {
  name          = "dynamic"
  load_balancer = aws_elb.lb.id
  lb_port       = 8443
  dynamic "attribute" {
    for_each = var.attributes
    content {
      name  = attribute.key
      value = attribute.value
    }
  }
}
resource "aws_load_balancer_policy" "by_name" {
  load_balancer_name = aws_elb.lb.name
  policy_name        = "tls12"
  policy_type_name   = "SSLNegotiationPolicyType"
  policy_attribute {
    name  = "Reference-Security-Policy"
    value = "ELBSecurityPolicy-TLS-1-1-2017-01"
  }
}
resource "aws_load_balancer_listener_policy" "by_name" {
  load_balancer_name = aws_elb.lb.name
  load_balancer_port = 9443
  policy_names       = ["tls12"]
}
"""})
    result = run([tmp_path], ["CW601"], strict=True)
    assert [(f.where.line, f.review) for f in result.findings] == [(17, True), (22, True), (34, False)]


def test_one_module_called_by_two_roots_under_the_same_name_is_reported_once(tmp_path):
    (tmp_path / "modules" / "key").mkdir(parents=True)
    (tmp_path / "modules" / "key" / "main.tf").write_text(
        'resource "aws_kms_key" "this" {\n  enable_key_rotation = false\n}\n')
    for example in ("one", "two"):
        (tmp_path / "examples" / example).mkdir(parents=True)
        (tmp_path / "examples" / example / "main.tf").write_text(
            'module "key" {\n  source = "../../modules/key"\n}\n')
    result = scan([str(tmp_path)], select(load_rules(), ["CW101"], None), Options(now=FIXED_NOW))
    assert [(f.resource, Path(f.where.file).name, f.where.line) for f in result.findings] == [
        ("module.key.aws_kms_key.this", "main.tf", 2)]
