"""Hostile input that costs far more than its size: evaluation bombs (values that multiply) and
regular expressions that backtrack. Each case must end in bounded time and memory with one
error naming the file, while the other files are still scanned."""
from __future__ import annotations

import multiprocessing
import re
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import FIXED_NOW
from hostile import GOOD, GOOD_TF, cfn_sub_chain, tf_locals_bomb, tf_nested_for
from certwarden import certs
from certwarden.sources import units
from certwarden.model import Unresolved
from certwarden.options import Options
from certwarden.scan import scan
from certwarden.sources import loader
from certwarden.sources.cloudformation import resolve as cfn_resolve
from certwarden.sources.terraform import fix as tf_fix, hcl as tf_hcl, modules as terraform, plan as tfplan
from certwarden.sources.budget import EXHAUSTED
from certwarden.sources.cloudformation.resolve import Resolver
from certwarden.sources.loader import load
from certwarden.sources.units import Unit, read_unit

SECONDS = 10   # a guard against hangs (old code took minutes or ran out of memory); not a speed measurement
BUDGET_ERROR = ("evaluation stopped: values built exceed 64 MiB (an expression that multiplies its input?); "
                "what depends on them is unresolved")


@contextmanager
def within(seconds: int):
    """Turn a hang into a failure instead of a stuck suite."""
    def expire(signum, frame):
        raise TimeoutError(f"hostile input not handled within {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def bounded(request):
    if request.function is test_every_pattern_is_linear_on_1_mib_of_adversarial_text:
        yield   # bounded pattern by pattern
        return
    with within(SECONDS):
        yield


def in_child(fn, *args, seconds: float = SECONDS):
    """(CPU seconds taken, result) of fn(*args) in a forked child, killed after `seconds` of wall
    time: a regex search stuck in C never returns to Python for SIGALRM to interrupt it. CPU
    time, because a busy machine stretches wall time several times over."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def run():
        started = time.process_time()
        try:
            result = fn(*args)
        except Exception as exc:   # noqa: BLE001  reported to the parent as text
            result = f"raised {exc!r}"
        send.send((time.process_time() - started, result))

    child = ctx.Process(target=run)
    child.start()
    try:
        if not receive.poll(seconds):
            return float("inf"), None
        return receive.recv()
    finally:
        child.kill()
        child.join()


def scan_dir(path: Path):
    from certwarden.rulepack import load_rules, select
    return scan([str(path)], select(load_rules(), ["CW101"], None), Options(now=FIXED_NOW, jobs=1))


def outcome(result, root: Path):
    """(errors as (file, line, message), findings as (code, resource, file)), paths relative to root."""
    errors = sorted((str(Path(e.file).relative_to(root)), e.line, e.message) for e in result.errors)
    findings = sorted((f.code, f.resource, str(Path(f.where.file).relative_to(root))) for f in result.findings)
    return errors, findings


def module(root: Path, name: str, text: str) -> Path:
    (root / name).mkdir()
    (root / name / "main.tf").write_text(text)
    return root / name


def tf_value(directory: Path, address: str, attr: str):
    graphs, errors, _ = read_unit(Unit("module", str(directory), files=(str(directory / "main.tf"),)))
    node = next(n for g in graphs for n in g.nodes.values() if n.name == address)
    return node.attrs.get(attr), errors


# -- item 9: evaluation budgets ---------------------------------------------------------------------
@pytest.mark.parametrize("bomb, line", [
    (tf_locals_bomb(), 10),      # 1.1 KB; local i is the first past 64 Mi characters (8**9)
    (tf_nested_for(), 3),        # 3000**3 elements
])
def test_terraform_evaluation_bomb_is_one_error_and_the_rest_is_scanned(tmp_path, bomb, line):
    module(tmp_path, "bomb", bomb)
    module(tmp_path, "good", GOOD_TF)
    assert outcome(scan_dir(tmp_path), tmp_path) == (
        [("bomb/main.tf", line, BUDGET_ERROR)],
        # the bomb's own key is still read: only what depends on the bomb is unknown
        [("CW101", "aws_kms_key.bomb", "bomb/main.tf"), ("CW101", "aws_kms_key.good", "good/main.tf")])
    window, _ = tf_value(tmp_path / "bomb", "aws_kms_key.bomb", "pending_window_days")
    assert window == EXHAUSTED


@pytest.mark.parametrize("expr", [
    'replace(local.s, "", local.s)',                   # 100k x 100k characters
    'join(local.s, split(",", local.commas))',         # the separator repeated 100k times
])
def test_terraform_functions_that_grow_their_input_are_charged_before_they_run(tmp_path, expr):
    d = module(tmp_path, "m", 'locals {\n  s = "' + "x" * 100_000 + '"\n  commas = "' + "," * 100_000 + '"\n}\n'
               f'resource "aws_kms_key" "k" {{\n  deletion_window_in_days = {expr}\n}}\n')
    window, errors = tf_value(d, "aws_kms_key.k", "pending_window_days")
    assert window == EXHAUSTED
    assert [(Path(e.file).name, e.line, e.message) for e in errors] == [("main.tf", 6, BUDGET_ERROR)]


def test_terraform_number_squared_again_and_again_is_unknown(tmp_path):
    lines = ["  n0 = " + "9" * 1000] + [f"  n{i} = local.n{i - 1} * local.n{i - 1}" for i in range(1, 16)]
    d = module(tmp_path, "m", "locals {\n" + "\n".join(lines) + "\n}\n"
               'resource "aws_kms_key" "k" {\n  deletion_window_in_days = local.n15\n}\n')
    window, errors = tf_value(d, "aws_kms_key.k", "pending_window_days")
    assert window == Unresolved("operator *: a number over 1024 bits") and errors == []


def test_terraform_values_within_the_budget_are_unchanged(tmp_path):
    """Large for a configuration, far below the budget: 60,000 elements from nested for, and a
    4 MB string made of ten copies of a 400 KB one."""
    d = module(tmp_path, "m", 'locals {\n  xs = split(",", "' + ",".join(["x"] * 3000) + '")\n'
               '  twenty = split(",", "' + ",".join(["y"] * 20) + '")\n'
               '  big = "' + "z" * 400_000 + '"\n}\n'
               'resource "aws_kms_key" "k" {\n'
               '  deletion_window_in_days = length(flatten([for a in local.xs : [for b in local.twenty : b]]))\n'
               '  tags = { env = "' + "${local.big}" * 10 + '" }\n}\n')
    window, errors = tf_value(d, "aws_kms_key.k", "pending_window_days")
    tags, _ = tf_value(d, "aws_kms_key.k", "tags")
    assert (window, errors, tags) == (60_000, [], {"env": "z" * 4_000_000})


def test_terraform_modules_calling_a_module_30_times_each(tmp_path):
    """Five levels of 30 calls: 30**4 module reads on old code."""
    for level in range(1, 5):
        module(tmp_path, f"m{level}", "".join(f'module "c{i}" {{\n  source = "../m{level + 1}"\n}}\n' for i in range(30)))
    module(tmp_path, "m5", GOOD_TF)
    graphs, errors, _ = read_unit(Unit("module", str(tmp_path / "m1"), files=(str(tmp_path / "m1" / "main.tf"),),
                                       roots=(str(tmp_path),)))
    assert [(Path(e.file).relative_to(tmp_path).as_posix(), e.message) for e in errors] == [("m4/main.tf", BUDGET_ERROR)]
    assert 0 < len(graphs[0].nodes) < 1024


def test_cloudformation_sub_chain_through_parameter_defaults(tmp_path):
    """30 levels: 2**30 resolutions on old code (never finished), now each parameter once; the
    string it builds doubles per level and passes the budget at level 26."""
    (tmp_path / "sub.yaml").write_text(cfn_sub_chain(30))
    (tmp_path / "good.yaml").write_text(GOOD)
    assert outcome(scan_dir(tmp_path), tmp_path) == (
        [("sub.yaml", 34, BUDGET_ERROR)],
        [("CW101", "Key", "good.yaml"), ("CW101", "Key", "sub.yaml")])


def test_cloudformation_parameters_are_resolved_once():
    """A chain that does not grow (each default selects from two references to the one before):
    exponential on old code, resolved in full now."""
    params = ["  P0: {Type: String, Default: x}"] + [
        f"  P{i}: {{Type: String, Default: !Select [0, [!Ref P{i - 1}, !Ref P{i - 1}]]}}" for i in range(1, 31)]
    resolver = Resolver(load(("Parameters:\n" + "\n".join(params) + "\nResources: {}\n").encode()))
    assert resolver.ref("P30") == "x"
    assert not resolver.budget.exhausted
    assert Resolver(load(b"Parameters:\n  P: {Default: !Ref P}\nResources: {}\n")).ref("P") == \
        Unresolved("parameter P refers to itself")


@pytest.mark.parametrize("value", [
    "!Join [!Ref Big, [" + ", ".join(["a"] * 20_000) + "]]",        # 100 KB separator x 20k
    '!Sub ["' + "${x}" * 20_000 + '", {x: !Ref Big}]',             # 100 KB value x 20k
    "!Select [0, [" + ", ".join(["!FindInMap [M, a, b]"] * 3_000) + "]]",   # a 3000-item list x 3000
])
def test_cloudformation_intrinsics_that_multiply_their_input(tmp_path, value):
    template = ("Parameters:\n  Big: {Type: String, Default: " + "y" * 100_000 + "}\n"
                "Mappings:\n  M: {a: {b: [" + ", ".join(["z"] * 3_000) + "]}}\n"
                "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n"
                f"      Tags: [{{Key: env, Value: {value}}}]\n")
    (tmp_path / "t.yaml").write_text(template)
    result = scan_dir(tmp_path)
    assert outcome(result, tmp_path) == ([("t.yaml", 6, BUDGET_ERROR)], [("CW101", "Key", "t.yaml")])


# -- item 10: regular expressions in linear time -----------------------------------------------------
def test_repeated_begin_lines_in_a_pem_file(tmp_path):
    (tmp_path / "x.pem").write_text("-----BEGIN RSA PRIVATE KEY-----\n" * 12_500)   # 400 KB: 33 s before
    (tmp_path / "good.yaml").write_text(GOOD)
    assert outcome(scan_dir(tmp_path), tmp_path) == (
        [("x.pem", 0, "private key block without a matching END line")], [("CW101", "Key", "good.yaml")])


def test_terraform_file_of_newlines(tmp_path):
    """43 s before in the search for local module calls (which runs before parsing; parsing such a
    file is Lark's own, linear time)."""
    d = module(tmp_path, "m", "\n" * 200_000 + 'module "m" {\n  source = "../n"\n}\n')
    module(tmp_path, "n", GOOD_TF)
    unit = Unit("module", str(d), files=(str(d / "main.tf"),))
    assert in_child(unit.members)[1:] == (None,)   # it calls a local module: not known without reading it
    tf_dirs = {str(d): [str(d / "main.tf")], str(tmp_path / "n"): []}
    assert in_child(terraform.called_modules, tf_dirs)[1:] == ({str(tmp_path / "n")},)


def test_sub_with_half_a_million_unclosed_openings():
    """Not reachable through a template file (the loader refuses 200 open braces), but Sub texts
    come from anywhere a string can: the resolver does not rely on that."""
    text = "${" * 500_000
    assert Resolver({}).resolve({"Fn::Sub": text}) == text
    assert cfn_resolve.referenced({"Fn::Sub": text}, {"a": True}) == set()


def test_pem_blocks_are_the_blocks_the_old_regex_found():
    old = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)

    @settings(max_examples=200, deadline=None, database=None)
    @given(st.lists(st.sampled_from(["-----BEGIN A-----", "-----END A-----", "-----BEGIN B-----", "-----END B-----",
                                     "-----BEGIN A B-----", "-----END A B-----", "-----", "BEGIN A", "END A", "-",
                                     "x", "\n", " "]), max_size=12).map("".join))
    def same(text):
        assert list(certs.pem_blocks(text)) == [(m.group(1), m.group(2), m.start(), m.end()) for m in old.finditer(text)]
    same()


# Every pattern the scanner runs on file content, as a function of one text.
PATTERNS = {   # results are counts and flags: they travel back from the child process
    "certs.pem_blocks": lambda s: len(list(certs.pem_blocks(s))),
    "certs.KEY_MARKER": lambda s: certs.holds_private_key(s),
    "terraform._LOCAL_SOURCE": lambda s: len(terraform._LOCAL_SOURCE.findall(s.encode())),
    "units._READS_ELSEWHERE": lambda s: bool(units._READS_ELSEWHERE.search(s.encode())),
    "cfn_resolve.referenced": lambda s: cfn_resolve.referenced({"Fn::Sub": s}, {"a": True}),
    "cfn_resolve.Sub": lambda s: len(str(Resolver({}).resolve({"Fn::Sub": s}))),
    "tfplan._INDEX": lambda s: len(tfplan._INDEX.sub("", s)),
    "tf_fix._ADDRESS": lambda s: bool(tf_fix._ADDRESS.match(s)),
    "tf_hcl._MARKER_TRAILING": lambda s: len(tf_hcl._MARKER_TRAILING.sub(r"\1", s)),
    "loader.check_depth": lambda s: _load_error(loader.check_depth, s.encode()),
}
TOKENS = ["-----BEGIN CERTIFICATE-----", "-----BEGIN A", "-----END A-----", "-----BEGIN RSA PRIVATE KEY-----",
          "PRIVATE ", "A ", "\n", " ", "\t", "${", "$", "{", "}", "[", "]", '["', '"', "\\", "source = ", 'source = "./',
          "module.", "a", ".", "- ", "? ", ": ", "#", "file(", "x"]
MIB = 1 << 20
LINEAR = 2   # CPU seconds: each pattern takes under 0.4 s on 1 MiB; the old ones took minutes


def _load_error(fn, data) -> bool:
    try:
        fn(data)
    except loader.LoadError:
        return True
    return False


@settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4).map("".join), st.sampled_from(TOKENS))
@example("-----BEGIN CERTIFICATE-----\n", "")
@example("\n", "x")
@example("${", "")
@example("[", "")
@example("- " * 199 + "x\n", "")
@example("module.a.", "[")
def test_every_pattern_is_linear_on_1_mib_of_adversarial_text(unit, tail):
    text = unit * (MIB // len(unit)) + tail
    for name, fn in PATTERNS.items():
        took, _ = in_child(fn, text)
        assert took < LINEAR, f"{name} took {took:.1f} s on {unit!r} x {MIB // len(unit)}"


def test_plan_address_with_brackets_loses_only_its_index_steps():
    assert tfplan._INDEX.sub("", 'module.m["a]b"].aws_s3_bucket.b[0]') == "module.m.aws_s3_bucket.b"
