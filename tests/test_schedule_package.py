"""`certwarden schedule --package`: the Lambda zip, built from wheels for this machine's Python
and architecture, extracted into a clean virtual environment that has only boto3 (what the
Lambda runtime provides), where the handler is imported and run against the moto server."""
from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
import venv
import zipfile

import pytest

from test_live import REGION, client

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
ARCHITECTURE = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
OFFLINE = re.compile(r"No matching distribution|Could not find a version|connection|Network|resolve", re.I)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    from certwarden.schedule import package as pkg

    if ARCHITECTURE is None:
        pytest.skip(f"no Lambda architecture for {platform.machine()}")
    out = tmp_path_factory.mktemp("package") / "lambda.zip"
    try:
        built = pkg.build(out, RUNTIME, ARCHITECTURE)
    except pkg.PackageError as exc:
        if OFFLINE.search(str(exc)):
            pytest.skip(f"the wheels cannot be fetched here: {exc}")
        raise
    return built


def test_the_zip_holds_certwarden_and_its_wheels_but_not_boto3(package):
    names = zipfile.ZipFile(package.path).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {"certwarden", "yaml", "jsonschema", "cryptography", "tree_sitter", "tree_sitter_hcl", "rich"} <= tops
    assert "certwarden/schedule/handler.py" in names and "certwarden/rules/CW101.yaml" in names
    assert not {t for t in tops if t.split("-")[0].lower() in ("boto3", "botocore", "s3transfer")}
    assert not [n for n in names if "__pycache__" in n]
    assert package.size == package.path.stat().st_size and package.unpacked < 250_000_000   # Lambda's limit


@pytest.fixture(scope="module")
def runtime(tmp_path_factory, package):
    """A clean environment with only boto3, as the Lambda runtime has, and the zip extracted as
    Lambda extracts it (to a directory on sys.path)."""
    root = tmp_path_factory.mktemp("runtime")
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    pip = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "boto3"],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        if OFFLINE.search(pip.stderr):
            pytest.skip(f"boto3 cannot be installed here: {pip.stderr.strip().splitlines()[-1]}")
        raise AssertionError(pip.stderr)
    task = root / "task"
    zipfile.ZipFile(package.path).extractall(task)
    return python, task


def test_the_extracted_package_imports_and_runs_the_handler(aws, runtime, tmp_path):
    python, task = runtime
    client(aws, "s3").create_bucket(Bucket="results", CreateBucketConfiguration={"LocationConstraint": REGION})
    key = client(aws, "kms").create_key(Description="no rotation")["KeyMetadata"]["Arn"]
    event = {"run": "r1", "started": "2026-12-02T03:00:00Z", "account": "123456789012", "regions": [REGION]}
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]); import certwarden; "
              "from certwarden.schedule import handler; "
              "print(json.dumps({'from': certwarden.__file__, 'got': handler.scan(json.loads(sys.argv[2]))}))")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
           "AWS_ENDPOINT_URL": aws, "RESULTS_BUCKET": "results", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "PATH": "/usr/bin:/bin"}
    # -I: neither the repository nor this environment's site-packages are importable
    run = subprocess.run([python, "-I", "-c", script, str(task), json.dumps(event)], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["from"] == str(task / "certwarden" / "__init__.py")
    assert out["got"]["account"] == "123456789012" and out["got"]["findings"] >= 1
    stored = client(aws, "s3").get_object(Bucket="results", Key="runs/2026-12-02/r1/accounts/123456789012/all/certwarden.json")
    findings = json.loads(stored["Body"].read())["findings"]
    assert ("CW101", key) in {(f["code"], f["arn"]) for f in findings}
