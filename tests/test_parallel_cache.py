"""Workers and --cache change how fast a scan is, never what it finds."""
from __future__ import annotations

import shutil

import pytest

import scanner.cache
from conftest import FIXED_NOW, FIXTURES
from hostile import GOOD, write_cases
from scanner.parallel import PARALLEL_MIN_UNITS, worker_count
from scanner.scan import Options, scan


def snapshot(result):
    """Everything a report shows, in report order."""
    return ([(f.code, f.resource, f.where.file, f.where.line, f.where.column, f.severity, f.message)
             for f in result.findings],
            [str(e) for e in result.errors], result.scanned)


@pytest.fixture
def tree(tmp_path):
    """The repository's fixtures, plus hostile files, so errors are compared too."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES, root)
    write_cases(root)
    return root


def run(root, rules, **kw):
    return snapshot(scan([str(root)], rules, Options(now=FIXED_NOW, **kw)))


def test_workers_find_exactly_what_one_process_finds(tree, rules):
    alone = run(tree, rules, jobs=1)
    assert alone[0] and alone[1]   # the comparison means something only with findings and errors
    assert run(tree, rules, jobs=2) == alone


def test_cold_and_warm_cache_find_exactly_what_no_cache_finds(tree, rules, tmp_path):
    plain = run(tree, rules, jobs=1)
    cache = tmp_path / "cache"
    assert run(tree, rules, jobs=1, cache_dir=str(cache)) == plain
    assert any(cache.rglob("*")), "the cold run wrote entries"
    assert run(tree, rules, jobs=1, cache_dir=str(cache)) == plain
    assert run(tree, rules, jobs=2, cache_dir=str(cache)) == plain


def test_warm_cache_reads_only_changed_files(tree, rules, tmp_path, monkeypatch):
    cache = str(tmp_path / "cache")
    run(tree, rules, jobs=1, cache_dir=cache)
    changed = tree / "good.yaml"
    changed.write_text(GOOD.replace("SYMMETRIC_DEFAULT", "HMAC_256"))
    read = []
    real = scanner.cache.read_unit
    monkeypatch.setattr(scanner.cache, "read_unit", lambda unit: read.append(unit) or real(unit))
    cached = run(tree, rules, jobs=1, cache_dir=cache)
    # Besides the changed file, only modules that read files outside themselves (never cached).
    assert [u.path for u in read if u.members() is not None] == [str(changed)]
    monkeypatch.undo()
    assert cached == run(tree, rules, jobs=1)


def test_corrupt_cache_entries_are_read_again(tree, rules, tmp_path):
    cache = tmp_path / "cache"
    plain = run(tree, rules, jobs=1, cache_dir=str(cache))
    for entry in cache.rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"not a pickle")
    assert run(tree, rules, jobs=1, cache_dir=str(cache)) == plain


def test_cache_key_changes_with_content_and_path(tmp_path):
    from scanner.cache import Cache
    from scanner.units import Unit

    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(GOOD)
    b.write_text(GOOD)
    cache = Cache(str(tmp_path / "cache"))
    key_a = cache.key(Unit("file", str(a)))
    assert key_a == cache.key(Unit("file", str(a)))
    assert key_a != cache.key(Unit("file", str(b)))     # findings carry the path
    a.write_text(GOOD + "# edited\n")
    assert key_a != cache.key(Unit("file", str(a)))


def test_small_runs_stay_in_process_and_large_ones_use_every_core(monkeypatch):
    monkeypatch.setattr("scanner.parallel.cores", lambda: 2)
    assert worker_count(0, 1) == 1
    assert worker_count(0, PARALLEL_MIN_UNITS - 1) == 1
    assert worker_count(0, PARALLEL_MIN_UNITS) == 2
    assert worker_count(4, 3) == 3      # never more workers than units
    assert worker_count(1, 10_000) == 1


def test_negative_jobs_is_a_usage_error(run_cli):
    code, out, err = run_cli("scan", FIXTURES, "--jobs", "-1")
    assert code == 2
    assert err == "certwarden: error: --jobs must be 0 (automatic) or more\n"


def test_modules_reading_files_outside_themselves_are_not_cached(tmp_path):
    from scanner.cache import Cache
    from scanner.units import Unit

    cache = Cache(str(tmp_path / "cache"))
    main = tmp_path / "main.tf"
    (tmp_path / "terraform.tfvars").write_text('d = "x"\n')
    main.write_text('resource "aws_kms_key" "k" {\n  description = var.d\n}\n')
    unit = Unit("module", str(tmp_path), files=(str(main),))
    assert unit.members() == (str(main), str(tmp_path / "terraform.tfvars"))
    assert cache.key(unit) is not None
    for body in ('module "m" {\n  source = "../m"\n}\n', 'locals {\n  p = file("${path.module}/p.json")\n}\n',
                 'locals {\n  t = templatefile("t.tpl", {})\n}\n'):
        main.write_text(body)
        assert cache.key(unit) is None, body
