"""OCSF: every finding a live scan can give is a Detection Finding (2004) that py-ocsf-models
builds and reads back."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from test_asff import LIVE_ARNS, every_live_finding
from test_live import REGION

ocsf_models = pytest.importorskip("py_ocsf_models")


def test_every_rule_that_fires_on_live_state_is_a_valid_detection_finding(rules):
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    from certwarden.report import ocsf

    result = every_live_finding(rules)
    written = json.loads(ocsf.render(result, datetime(2026, 6, 1, tzinfo=timezone.utc)))
    assert len(written) == len(result.findings)
    for doc, f in zip(written, result.findings):
        back = DetectionFinding.model_validate(doc)   # what was written is a Detection Finding again
        assert (doc["class_uid"], doc["category_uid"], doc["type_uid"]) == (2004, 2, 200401)
        assert back.finding_info.uid == f"certwarden/{f.code}/{f.fingerprint}"
        assert doc["metadata"]["event_code"] == f.code and doc["cloud"]["account"]["uid"] == f.where.account
        assert doc["resources"][0]["uid"] == LIVE_ARNS[f.kind]
        assert doc["severity"].lower() == {"info": "informational"}.get(f.severity, f.severity)
        assert doc["unmapped"]["compliance"]["requirements"][0] == "AWS Well-Architected SEC09-BP01"
        assert doc["remediation"]["references"] == [f"https://github.com/certwarden/certwarden/blob/main/docs/rules/{f.code}.md"]


def test_a_live_run_writes_ocsf(aws, run_cli, tmp_path):
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    from test_live import client

    key = client(aws, "kms").create_key()["KeyMetadata"]
    path = tmp_path / "ocsf.json"
    code, _, err = run_cli("live", "--endpoint-url", aws, "--region", REGION, "--no-config", "--select", "CW101",
                           "-o", f"ocsf={path}")
    assert code == 1, err
    event, = json.loads(path.read_text())
    DetectionFinding.model_validate(event)
    assert event["resources"][0]["uid"] == key["Arn"] and event["resources"][0]["type"] == "AwsKmsKey"
