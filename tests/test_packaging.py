"""What a user installs: the wheel (with its license, project links and the rule pages), the
install instructions the docs give, and the container image."""
from __future__ import annotations

import email
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

from certwarden.rulepack import load_rules

# What the wheel is built from (as the Dockerfile copies it): no build/ left over from elsewhere.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "scanner", "rules", "docs/rules")


def _copy_sources(dest):
    for name in SOURCES:
        src, out = ROOT / name, dest / name
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, out, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, out)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    tree, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheel")
    _copy_sources(tree)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    "-w", str(out), str(tree)], check=True, capture_output=True, timeout=600)
    built, = out.glob("certwarden-*.whl")
    return built


def test_the_wheel_ships_the_license_the_rule_pages_and_project_links(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta_name, = (n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_string(z.read(meta_name).decode())
        license_name, = (n for n in names if re.search(r"\.dist-info/(licenses/)?LICENSE$", n))
        assert z.read(license_name) == (ROOT / "LICENSE").read_bytes()
        for rule in load_rules():
            page = f"certwarden/rule_docs/{rule.code}.md"
            assert page in names and z.read(page) == (ROOT / "docs" / "rules" / f"{rule.code}.md").read_bytes()
        assert "certwarden/rules/rule.schema.json" in names
    assert "Apache License" in (ROOT / "LICENSE").read_text() and meta["License"] == "Apache-2.0"
    assert "License :: OSI Approved :: Apache Software License" in meta.get_all("Classifier")
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls["Repository"] == "https://github.com/certwarden/certwarden"
    assert set(urls) >= {"Homepage", "Documentation", "Issues"}


def test_the_import_name_is_certwarden_not_scanner(wheel, tmp_path):
    """A name of its own beside other tools (#18, item 6): the wheel installs `certwarden` only,
    and `python -m certwarden` runs the CLI from it."""
    with zipfile.ZipFile(wheel) as z:
        tops = {n.split("/", 1)[0] for n in z.namelist() if not n.split("/", 1)[0].endswith(".dist-info")}
        entry = next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))
        assert "certwarden = certwarden.cli:main" in z.read(entry).decode()
        z.extractall(tmp_path / "site")
    assert tops == {"certwarden"}
    run = subprocess.run([sys.executable, "-m", "certwarden", "--version"], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"})
    assert (run.returncode, run.stdout.split()[0]) == (0, "certwarden"), run.stderr


def test_rules_doc_prints_the_shipped_page(run_cli):
    code, out, _ = run_cli("rules", "--doc", "CW101")
    assert code == 0 and out == (ROOT / "docs" / "rules" / "CW101.md").read_text()
    code, out, err = run_cli("rules", "--doc", "../../README")
    assert (code, out) == (2, "") and "no rule page for ../../README" in err


def _user_docs() -> dict[str, str]:
    files = [ROOT / "README.md", ROOT / "action.yml", *sorted((ROOT / "docs").glob("*.md"))]
    return {str(f.relative_to(ROOT)): f.read_text() for f in files}


def _tags() -> set[str]:
    done = subprocess.run(["git", "-C", str(ROOT), "tag", "--list"], capture_output=True, text=True)
    return set(done.stdout.split()) if done.returncode == 0 else set()


def test_install_docs_name_only_what_exists():
    """No package on the index yet, and no release tag: the docs install from a clone or a wheel."""
    tags = _tags()
    for name, text in _user_docs().items():
        assert not re.search(r"pip install (-U |--upgrade )?['\"]?certwarden\b(?![/.\w-])", text), \
            f"{name}: certwarden is not on the package index"
        for tag in re.findall(r"(?:@|rev: )(v\d+\.\d+\.\d+)", text):
            assert tag in tags, f"{name}: the tag {tag} does not exist"


@pytest.mark.skipif(shutil.which("docker") is None, reason="docker is not installed")
def test_the_docker_image_runs_the_cli(tmp_path):
    if subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode != 0:
        pytest.skip("no docker daemon")
    _copy_sources(tmp_path)
    shutil.copy2(ROOT / "Dockerfile", tmp_path / "Dockerfile")
    tag = "certwarden-test:latest"
    subprocess.run(["docker", "build", "-q", "-t", tag, str(tmp_path)], check=True, timeout=1800)
    try:
        version = subprocess.run(["docker", "run", "--rm", tag, "--version"], capture_output=True, text=True,
                                 check=True, timeout=120).stdout
        from certwarden import __version__
        assert __version__ in version
        example = ROOT / "fixtures" / "examples"
        done = subprocess.run(["docker", "run", "--rm", "-v", f"{example}:/src:ro", tag, "scan", "-q", "."],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 1 and re.search(r"^certificate-infrastructure\.yaml:\d+:\d+: CW\d{3} ", done.stdout, re.M)
        size = int(subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", tag], capture_output=True,
                                  text=True, check=True).stdout)
        assert size < 400 * 2**20   # slim base, no build tools, no caches
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)
