"""Workers and --cache change how fast a scan is, never what it finds."""
from __future__ import annotations

import os
import pickle
import shutil
import stat
from pathlib import Path

import pytest

import certwarden.scan
from conftest import FIXED_NOW, FIXTURES
from gitrepo import init
from hostile import GOOD, write_cases
from certwarden.workers import PARALLEL_MIN_UNITS, worker_count
from certwarden.options import Options
from certwarden.scan import scan


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


def test_chunks_keep_unit_order_and_shrink_to_single_units_at_the_end():
    from certwarden.parallel import MAX_CHUNK, chunks

    units = list(range(167))
    got = chunks(units, 2)
    assert [u for c in got for u in c] == units
    sizes = [len(c) for c in got]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] <= MAX_CHUNK
    assert sizes[-2:] == [1, 1]   # the last hand-offs are one unit each: no core waits on a big one
    assert chunks([], 2) == [] and chunks([1], 4) == [[1]]


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
    real = certwarden.scan.read_unit   # what the scan hands the cache to read a unit it does not hold
    monkeypatch.setattr(certwarden.scan, "read_unit", lambda unit: read.append(unit) or real(unit))
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
            entry.write_bytes(b"not an entry")
    assert run(tree, rules, jobs=1, cache_dir=str(cache)) == plain


# -- the cache's contents are attacker input ------------------------------------------------------
def _entry(cache_dir: Path, path: Path, rules) -> Path:
    """The entry of the file `path` (a cached scan of it makes it if need be): the one that
    names it."""
    run(path, rules, jobs=1, cache_dir=str(cache_dir))
    entry, = (p for p in cache_dir.rglob("*")
              if p.is_file() and p.name != "secret" and str(path).encode() in p.read_bytes())
    return entry


class _Payload:
    """A pickle that runs code when loaded (what `pickle.load` of a planted entry would do)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))


def test_a_planted_pickle_entry_is_not_run_and_the_file_is_read(tmp_path, rules):
    template = tmp_path / "keys.yaml"
    template.write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())
    cache, marker = tmp_path / "cache", tmp_path / "pwned"
    plain = run(template, rules, jobs=1)
    entry = _entry(cache, template, rules)
    entry.write_bytes(pickle.dumps(_Payload(marker)))
    assert run(template, rules, jobs=1, cache_dir=str(cache)) == plain
    assert not marker.exists()
    assert not entry.read_bytes().startswith(b"\x80"), "the entry was rewritten as data"


def _empty_outcome() -> bytes:
    from certwarden import graphjson

    return graphjson.dumps(([], [], []))   # "nothing in this file": would hide every finding


def test_entries_without_the_secret_s_hmac_are_ignored(tmp_path, rules):
    template = tmp_path / "keys.yaml"
    template.write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())
    cache = tmp_path / "cache"
    plain = run(template, rules, jobs=1)
    assert [code for code, *_ in plain[0]].count("CW101") == 3
    assert run(template, rules, jobs=1, cache_dir=str(cache)) == plain
    entry = _entry(cache, template, rules)
    real = entry.read_bytes()
    forged = [b"\0" * 32 + _empty_outcome(),                 # a guessed MAC
              real[:32] + _empty_outcome(),                     # the MAC of other content
              real[:-40] + real[-40:].replace(b"4", b"5")]      # the real entry, tampered
    for body in forged:
        entry.write_bytes(body)
        assert run(template, rules, jobs=1, cache_dir=str(cache)) == plain
    # An entry moved under another unit's key fails too: the key is part of what is signed.
    other = tmp_path / "other.yaml"
    other.write_text(GOOD)
    entry.write_bytes(_entry(cache, other, rules).read_bytes())
    assert run(template, rules, jobs=1, cache_dir=str(cache)) == plain


def test_the_secret_is_private_and_an_unfit_one_is_replaced(tmp_path, rules):
    template = tmp_path / "keys.yaml"
    template.write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())
    cache = tmp_path / "cache"
    plain = run(template, rules, jobs=1, cache_dir=str(cache))
    secret = cache / "secret"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_bytes()) == 32
    # A secret others could read (or a link in its place) is not trusted: a new one is made,
    # so entries signed with the old one are read again, not believed.
    entry = _entry(cache, template, rules)
    known = b"k" * 32
    secret.write_bytes(known)
    secret.chmod(0o644)
    import hashlib
    import hmac
    payload = _empty_outcome()
    key = entry.name
    entry.write_bytes(hmac.new(known, key.encode() + b"\0" + payload, hashlib.sha256).digest() + payload)
    assert run(template, rules, jobs=1, cache_dir=str(cache)) == plain
    assert secret.read_bytes() != known and stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_an_entry_that_is_a_fifo_or_a_link_is_not_waited_on(tmp_path, rules):
    template = tmp_path / "keys.yaml"
    template.write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())
    cache = tmp_path / "cache"
    plain = run(template, rules, jobs=1)
    entry = _entry(cache, template, rules)
    entry.unlink()
    os.mkfifo(entry)
    assert run(template, rules, jobs=1, cache_dir=str(cache)) == plain
    entry.unlink()
    entry.symlink_to("/dev/zero")
    assert run(template, rules, jobs=1, cache_dir=str(cache)) == plain


def test_a_cache_inside_the_scanned_tree_is_refused(tmp_path, run_cli):
    repo = init(tmp_path / "repo")
    (repo / "infra").mkdir()
    template = repo / "infra" / "keys.yaml"
    template.write_text(GOOD)
    for paths, cache in (([repo], repo / ".cache"), ([repo / "infra"], repo / "infra" / "c"),
                         ([template], repo / ".cache")):   # a file: its repository is the tree
        code, out, err = run_cli("scan", *paths, "--cache", cache)
        root = repo / "infra" if cache.parent == repo / "infra" else repo
        assert (code, out) == (2, "")
        assert err == (f"certwarden: error: --cache {cache} is inside the scanned tree {root}, whose files "
                       "could plant entries: keep the cache outside it (e.g. ~/.cache/certwarden)\n")
        assert not cache.exists()
    code, _, err = run_cli("scan", template, "--cache", tmp_path / "outside")
    assert code == 1 and "error" not in err
    assert (tmp_path / "outside" / "secret").is_file()


def test_cache_key_changes_with_content_and_path(tmp_path):
    from certwarden.cache import Cache
    from certwarden.sources.units import Unit

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
    monkeypatch.setattr("certwarden.workers.cores", lambda: 2)
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
    from certwarden.cache import Cache
    from certwarden.sources.units import Unit

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


def test_cache_entries_keep_every_model_type_and_odd_keys():
    from datetime import datetime, timezone

    from certwarden import graphjson
    from certwarden.model import Unresolved, Where
    from certwarden.sources.loader import PosDict, PosList
    from certwarden.sources.terraform.values import PartialText, Text

    block = PosDict({"\x00": 1, "Tags": PosList([Text("x")]), 3: None, (1, 2): True})   # YAML keys of any type
    block.pos, block.line = {"\x00": (1, 1), 3: (2, 1)}, 7
    block["Tags"].pos = {0: (3, 5)}
    block["Tags"][0].line = 3
    value = [block, {"\x00": "not a tag"}, (Where("a.yaml", 1, 2, ("Properties", 0)),), {1.5, "s"},
             Unresolved("r"), PartialText("p", "a\x00?\x00b", 4), datetime(2026, 1, 1, tzinfo=timezone.utc),
             float("inf"), "\ud800"]
    back = graphjson.loads(graphjson.dumps(value))
    assert back == value
    assert [type(v) for v in back] == [type(v) for v in value]
    assert (back[0].pos, back[0].line, back[0]["Tags"].pos, back[0]["Tags"][0].line) == (block.pos, 7, {0: (3, 5)}, 3)
    assert not hasattr(back[0], "end_line")
    with pytest.raises(TypeError):
        graphjson.dumps([object()])   # not a model type: the unit is not cached, never pickled
