"""PEM/DER material: parsing into the model, never echoing a private key, bad input."""
from __future__ import annotations

import base64
import hashlib
import json
import struct
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from certwarden import certs
from certwarden.model import Graph, Node, Unresolved, Where

P = serialization.PrivateFormat


def _cert(key, cn="svc.example.com", start=datetime(2025, 11, 1), end=datetime(2026, 2, 1), ca=False):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .sign(key, hashes.SHA384()))


def _spki_fingerprint(key) -> str:
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + hashlib.sha256(spki).hexdigest()


def _key_lines(pem: str) -> list[str]:
    return [ln for ln in pem.splitlines() if ln and not ln.startswith("-----")]


def test_certificate_attributes():
    key = ec.generate_private_key(ec.SECP384R1())
    text = "intro text\n" + _cert(key).public_bytes(serialization.Encoding.PEM).decode()
    (m,), errors = certs.parse_text(text)
    assert errors == [] and m.kind == "certificate" and m.offset == len("intro text\n")
    a = m.attrs
    assert (a["key_algorithm"], a["key_bits"], a["signature_hash"]) == ("EC", 384, "SHA384")
    assert a["not_before"] == datetime(2025, 11, 1, tzinfo=timezone.utc)
    assert a["not_after"] == datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert a["sans"] == ["svc.example.com"] and a["is_ca"] is False and a["self_signed"] is True
    assert a["subject"] == "CN=svc.example.com" and a["fingerprint"].startswith("SHA256:")


def test_private_key_forms_give_type_size_and_public_key_fingerprint():
    rsa_key = rsa.generate_private_key(65537, 2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    enc = serialization.BestAvailableEncryption(b"pw")
    cases = [
        (rsa_key.private_bytes(serialization.Encoding.PEM, P.TraditionalOpenSSL, serialization.NoEncryption()),
         ("RSA", 2048, False, _spki_fingerprint(rsa_key))),
        (rsa_key.private_bytes(serialization.Encoding.PEM, P.PKCS8, serialization.NoEncryption()),
         ("RSA", 2048, False, _spki_fingerprint(rsa_key))),
        (ec_key.private_bytes(serialization.Encoding.PEM, P.TraditionalOpenSSL, serialization.NoEncryption()),
         ("EC", 256, False, _spki_fingerprint(ec_key))),
        (ed_key.private_bytes(serialization.Encoding.PEM, P.PKCS8, serialization.NoEncryption()),
         ("Ed25519", 256, False, _spki_fingerprint(ed_key))),
    ]
    for pem, expected in cases:
        (m,), errors = certs.parse_text(pem.decode())
        a = m.attrs
        assert errors == [] and m.kind == "private_key"
        assert (a["key_type"], a["key_bits"], a["encrypted"], a["fingerprint"]) == expected
    encrypted = rsa_key.private_bytes(serialization.Encoding.PEM, P.PKCS8, enc).decode()
    (m,), _ = certs.parse_text(encrypted)
    assert m.attrs["encrypted"] is True and m.attrs["key_type"] == "unknown"


def test_openssh_keys_plain_and_encrypted():
    ed_key = ed25519.Ed25519PrivateKey.generate()
    plain = ed_key.private_bytes(serialization.Encoding.PEM, P.OpenSSH, serialization.NoEncryption()).decode()
    (m,), _ = certs.parse_text(plain)
    public = ed_key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(public.split()[1])
    assert m.attrs == {"key_type": "Ed25519", "key_bits": 256, "encrypted": False,
                       "fingerprint": "SHA256:" + hashlib.sha256(blob).hexdigest()}

    def s(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b
    # An encrypted key (bcrypt KDF): the public part is still readable without the passphrase.
    body = b"openssh-key-v1\x00" + s(b"aes256-ctr") + s(b"bcrypt") + s(b"\x00" * 8) + struct.pack(">I", 1) \
        + s(blob) + s(b"\x11" * 64)
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.encodebytes(body).decode() + "-----END OPENSSH PRIVATE KEY-----\n"
    (m,), _ = certs.parse_text(text)
    assert (m.attrs["key_type"], m.attrs["encrypted"]) == ("Ed25519", True)
    assert m.attrs["fingerprint"] == "SHA256:" + hashlib.sha256(blob).hexdigest()


def test_escaped_pem_in_a_json_string_is_still_a_key(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, P.PKCS8, serialization.NoEncryption()).decode()
    (tmp_path / "settings.json").write_text(json.dumps({"tls": {"key": pem}}))
    from certwarden.sources.units import read_file
    (graph,), errors = read_file(str(tmp_path / "settings.json"))
    (n,) = graph.nodes.values()
    assert errors == [] and (n.kind, n.source, n.attrs["fingerprint"]) == ("private_key", "pem", _spki_fingerprint(key))


def test_certificate_pem_attribute_is_parsed_for_any_source():
    """The Terraform adapter stores the raw body; every graph gets the parsed attributes."""
    key = rsa.generate_private_key(65537, 1024)
    body = _cert(key).public_bytes(serialization.Encoding.PEM).decode()
    g = Graph(unit="main.tf", source="tf")
    where = Where("main.tf", 12, 3)
    node = g.add(Node(id="aws_acm_certificate.imported", kind="acm_certificate", name="aws_acm_certificate.imported",
                      source="tf", where=Where("main.tf", 10, 1)))
    node.set("certificate_pem", body, where)
    broken = g.add(Node(id="b", kind="iam_server_certificate", name="b", source="tf", where=where))
    broken.set("certificate_pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----", where)
    certs.apply_certificate_pem(g)
    assert "certificate_pem" not in node.attrs
    assert (node.attrs["key_algorithm"], node.attrs["key_bits"], node.spots["key_bits"]) == ("RSA", 1024, where)
    assert isinstance(broken.attrs["not_after"], Unresolved) and "base64" in broken.attrs["not_after"].reason


def test_private_key_never_appears_in_any_output(tmp_path, run_cli):
    key = rsa.generate_private_key(65537, 2048)
    pkcs1 = key.private_bytes(serialization.Encoding.PEM, P.TraditionalOpenSSL, serialization.NoEncryption()).decode()
    pkcs8 = key.private_bytes(serialization.Encoding.PEM, P.PKCS8, serialization.NoEncryption()).decode()
    (tmp_path / "server.key").write_text(pkcs1)
    indented = "".join("        " + ln + "\n" for ln in pkcs8.splitlines())
    (tmp_path / "stack.yaml").write_text(
        "Resources:\n  Cert:\n    Type: AWS::IAM::ServerCertificate\n    Properties:\n"
        "      CertificateBody: '{{resolve:ssm:cert}}'\n      PrivateKey: |\n" + indented)
    outputs = {fmt: tmp_path / f"out.{fmt}" for fmt in ("text", "json", "sarif")}
    code, out, err = run_cli("scan", tmp_path / "server.key", tmp_path / "stack.yaml",
                             *[a for fmt, p in outputs.items() for a in ("-o", f"{fmt}={p}")], "-o", "text")
    assert code == 1
    produced = out + err + "".join(p.read_text() for p in outputs.values())
    for line in _key_lines(pkcs1) + _key_lines(pkcs8):
        assert line not in produced
    findings = json.loads(outputs["json"].read_text())["findings"]
    assert sorted((f["code"], f["resource"], f["line"]) for f in findings) == [
        ("CW216", "Cert", 2), ("CW504", "Cert", 6), ("CW504", "server.key", 1)]
    assert all(_spki_fingerprint(key) in f["message"] for f in findings if f["code"] == "CW504")


def test_bad_material_is_one_error_naming_the_file_and_the_scan_goes_on(tmp_path, run_cli):
    secret_looking = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
    (tmp_path / "broken.pem").write_text(
        f"-----BEGIN RSA PRIVATE KEY-----\n{secret_looking}\n-----END RSA PRIVATE KEY-----\n")
    (tmp_path / "junk.crt").write_bytes(b"\x00\x01\x02 not DER")
    good = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ok.pem").write_bytes(_cert(good).public_bytes(serialization.Encoding.PEM))
    code, out, err = run_cli("scan", tmp_path, "--now", "2026-01-01", "-o", "json")
    *errors, verdict = [ln for ln in err.splitlines() if ln.startswith("certwarden:")]
    assert verdict.startswith("certwarden: error: 2 inputs could not be read")
    assert sorted(e.split(": ", 2)[1].rsplit("/", 1)[-1] for e in errors) == ["broken.pem", "junk.crt"]
    assert secret_looking not in out + err
    report = json.loads(out)
    # ok.pem was still read: its certificate expires on 2026-02-01, 31 days after --now
    assert (report["summary"]["scanned"], report["summary"]["errors"], report["findings"], code) == (1, 2, [], 2)


def test_suppression_beside_a_pem_block(tmp_path, run_cli):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, P.PKCS8, serialization.NoEncryption()).decode()
    (tmp_path / "demo.key").write_text("# certwarden:ignore CW504 reason=documentation sample key\n" + pem
                                       + "# a second, unexcused key\n" + pem)
    code, out, _ = run_cli("scan", tmp_path, "-o", "json")
    found = [(f["resource"], f["line"], bool(f["suppressions"])) for f in json.loads(out)["findings"]]
    assert found == [("demo.key", 2, True), ("demo.key#2", 8, False)] and code == 1
