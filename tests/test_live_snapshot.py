"""Snapshots: `certwarden live -o snapshot=FILE` writes what it read; `certwarden scan FILE`
evaluates it offline, with the same findings, and no secret or private key is ever in it."""
from __future__ import annotations

import base64
import gzip
import json

import pytest

from test_live import REGION, client
from test_live_certs import make_cert
from test_live_policy import one_of_everything

NOW = "2026-06-01"
SECRET = "cw-distinctive-s3cr3t-value-7f3a9c"


def estate(aws) -> bytes:
    """An account with a resource for every collector, a secret holding SECRET, and an IAM
    server certificate uploaded with its private key; returns that key's DER bytes."""
    from cryptography.hazmat.primitives import serialization

    one_of_everything(aws)
    client(aws, "secretsmanager").create_secret(Name="db-password", SecretString=SECRET)
    body, key = make_cert("api.example.com", days=400)
    client(aws, "iam").upload_server_certificate(ServerCertificateName="api", CertificateBody=body.decode(),
                                                 PrivateKey=key.decode())
    client(aws, "kms").create_key(Description="tagged", Tags=[{"TagKey": "$note", "TagValue": "a tag key that starts like the snapshot's type marks"}])
    return serialization.load_pem_private_key(key, None).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def findings_of(path) -> list[dict]:
    return json.loads(path.read_text())["findings"]


@pytest.mark.parametrize("name", ["snap.json.gz", "snap.json"])
def test_a_snapshot_scanned_offline_gives_the_findings_of_the_live_run(aws, run_cli, tmp_path, name):
    key = estate(aws)
    snap, live_json, offline_json = tmp_path / name, tmp_path / "live.json", tmp_path / "offline.json"

    code, _, err = run_cli("live", "--endpoint-url", aws, "--region", f"{REGION},us-east-2", "--no-config",
                           "--now", NOW, "--strict", "-o", f"json={live_json}", "-o", f"snapshot={snap}")
    assert code == 1, err
    live = findings_of(live_json)
    assert {f["code"] for f in live} >= {"CW101", "CW401", "CW501", "CW216"}

    moto_gone = "http://127.0.0.1:9"   # offline: nothing may be asked of AWS
    code, _, err = run_cli("scan", str(snap), "--no-config", "--now", NOW, "--strict", "-o", f"json={offline_json}")
    assert code == 1, err
    assert findings_of(offline_json) == live
    assert json.loads(offline_json.read_text())["errors"] == json.loads(live_json.read_text())["errors"]

    raw = snap.read_bytes()
    text = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode()
    assert json.loads(text)["certwarden_snapshot"] == 1
    for secret in (SECRET, "PRIVATE KEY", base64.b64encode(key).decode()[64:128], moto_gone):
        assert secret not in text
    assert key[40:80] not in raw


def test_a_snapshot_is_evaluated_with_the_rules_and_policy_of_today(aws, run_cli, tmp_path):
    client(aws, "kms").create_key()
    snap = tmp_path / "snap.json"
    run_cli("live", "--endpoint-url", aws, "--region", REGION, "--no-config", "-o", f"snapshot={snap}")

    code, out, _ = run_cli("scan", str(snap), "--no-config", "--select", "CW101", "-o", "json")
    assert code == 1 and [f["code"] for f in json.loads(out)["findings"]] == ["CW101"]
    (tmp_path / ".certwarden.yaml").write_text("rules:\n  CW101: {enabled: false}\n")
    code, out, err = run_cli("scan", str(snap), "--config", str(tmp_path / ".certwarden.yaml"), "-o", "json")
    assert "CW101" not in {f["code"] for f in json.loads(out)["findings"]}, err


def test_a_private_key_string_is_never_written():
    from datetime import datetime, timezone

    from certwarden.model import Graph, Node, Where
    from certwarden.sources import snapshot

    graph = Graph(unit="aws://111122223333", source="live")
    node = Node(id="arn:x", kind="kms_key", name="k", source="live", where=Where(arn="arn:x"))
    node.set("tags", {"pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----"})
    graph.add(node)
    text = snapshot.dump([graph], [], 1, datetime.now(timezone.utc))
    assert "MIIEvQIBADANBg" not in text and snapshot.REDACTED in text


@pytest.mark.parametrize("content, message", [
    (gzip.compress(b'{"certwarden_snapshot": 1, "accounts": [')[:-8], "not a readable gzip file"),
    (gzip.compress(b'{"Resources": {}}'), "gzip file that is not a certwarden snapshot"),
    (b'{"certwarden_snapshot": 2, "accounts": []}', "snapshot format 2; this certwarden reads 1"),
    (b'{"certwarden_snapshot": 1, "accounts": [{"unit": "aws://1"}], "errors": []}', "not a readable certwarden snapshot"),
    (b'{"certwarden_snapshot": 1, "accounts": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nesting deeper"),
])
def test_a_broken_snapshot_is_one_line(run_cli, tmp_path, content, message):
    path = tmp_path / "broken.json.gz"
    path.write_bytes(content)
    code, out, err = run_cli("scan", str(path), "--no-config", "-o", "json")
    error, = json.loads(out)["errors"]
    assert code == 2 and error["file"].endswith("broken.json.gz") and message in error["message"]
    assert "Traceback" not in err


def test_snapshot_asff_and_ocsf_are_outputs_of_live_only(run_cli, tmp_path):
    code, _, err = run_cli("scan", str(tmp_path), "-o", "snapshot=x.json")
    assert code == 2 and "-o snapshot is written by `certwarden live` only" in err
