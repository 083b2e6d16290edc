#!/usr/bin/env python3
"""Fuzz the parsers and adapters with hypothesis for a fixed time (on request, not in the suite).

    python tests/perf/fuzz.py [--minutes 10] [--out DIR]

Targets: the YAML/JSON loader on YAML-shaped noise (indicators, anchors, tags, deep brackets)
and on mutated templates; the whole file reader (bytes -> graphs) and the rule engine on random
templates (tests/cfn_strategies.py); the HCL parser and the Terraform reader; certificate and
key material; the evaluators (Terraform locals and CloudFormation parameters that refer to each
other through every kind of expression, tests/eval_strategies.py); and the --diff-base parser on
real git repositories (hostile file names, lines that look like diff headers, the user's diff
config), checked against the lines the example changed. A target passes when it returns or
raises its own documented error (LoadError); anything else is a crash.

Fuzzing runs in a child process that writes each input to disk before trying it, so a crash
that kills the interpreter (libyaml segfaults on deep nesting) is caught by the parent, which
saves the input and starts a new child; so does a child that stops making progress (a hang).
Every crash input lands in --out; turn each into a
regression test (tests/test_robustness.py).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def targets():
    """name -> (strategy, function taking bytes). Imported in the child only."""
    import tempfile
    from datetime import datetime, timezone

    import yaml
    from hypothesis import strategies as st

    from cfn_strategies import template
    from certwarden.engine import Engine
    from certwarden.rulepack import load_rules
    from certwarden.sources.loader import LoadError, load_all
    from certwarden.sources.units import Unit, read_unit

    engine = Engine(load_rules(), datetime.now(timezone.utc), strict=True)
    tokens = st.sampled_from(["- ", "? ", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "!Ref ", "!!map ", "!!binary ",
                              "'", '"', "\n", "  ", "\t", "#", "|", ">", "---\n", "...\n", "%YAML 1.1\n", "a", "1",
                              "Resources:", "AWS::KMS::Key", "<<: *a", "\\u0000", "\ufeff", "\x00", "\x85"])
    yaml_noise = st.lists(tokens, max_size=400).map(lambda t: "".join(t).encode("utf-8", "surrogatepass"))
    templates = template().map(lambda d: yaml.safe_dump(d, sort_keys=False).encode())

    def mutate(source):
        return mutated(source)

    @st.composite
    def mutated(draw, source=templates):
        data = bytearray(draw(source))
        for _ in range(draw(st.integers(1, 8))):
            op, pos = draw(st.integers(0, 2)), draw(st.integers(0, max(len(data) - 1, 0)))
            if op == 0 and data:
                del data[pos:pos + draw(st.integers(1, 16))]
            elif op == 1:
                data[pos:pos] = draw(st.binary(max_size=8)) or b"&"
            else:
                data[pos:pos] = data[: draw(st.integers(0, 64))]
        return bytes(data)

    def loader(data: bytes) -> None:
        try:
            load_all(data)
        except LoadError:
            pass

    def read_as(*names: str):
        """A target: the bytes written as each of these file names, read and checked."""
        def target(data: bytes) -> None:
            with tempfile.TemporaryDirectory() as tmp:
                for name in names:
                    path = Path(tmp) / name
                    path.write_bytes(data)
                    graphs, _, _ = read_unit(Unit("file", str(path), explicit=True))
                    for graph in graphs:
                        list(engine.run(graph))
        return target

    reader = read_as("t.yaml", "t.json")

    out = {
        "loader/yaml-noise": (yaml_noise, loader),
        "loader/mutated-template": (mutated(), loader),
        "reader/template": (templates, reader),
        "reader/mutated-template": (mutated(), reader),
        "reader/json-template": (template().map(lambda d: json.dumps(d).encode()), reader),
    }
    from certwarden.sources.terraform.hcl import HclError, parse
    from tf_strategies import module

    hcl_tokens = st.sampled_from(['resource "aws_kms_key" "k" {', "}", "{", "(", ")", "[", "]", " = ", "var.x", "? ",
                                  ": ", "<<EOF\n", "EOF\n", '"', "${", "%{", "/*", "*/", "#", "\n", ",", "for x in y :",
                                  "...", "=>", "1", "true", "null", "\\", "\x00"])
    hcl_noise = st.lists(hcl_tokens, max_size=300).map(lambda t: "".join(t).encode())
    modules = module().map(str.encode)

    def hcl(data: bytes) -> None:
        try:
            parse(data.decode("utf-8", "replace"), "fuzz.tf")
        except HclError:
            pass

    def tf_reader(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            main = Path(tmp) / "main.tf"
            main.write_bytes(data)
            graphs, _, _ = read_unit(Unit("module", tmp, files=(str(main),)))
            for graph in graphs:
                list(engine.run(graph))

    # Certificate and key material: real blocks from the fixtures, their DER bytes mutated and
    # wrapped again (so the decoders, not only base64, see the damage), and PEM-shaped noise.
    import base64

    from certwarden.certs import pem_blocks

    blocks = []
    for f in sorted((ROOT / "fixtures").glob("CW*/pem_*")) + sorted((ROOT / "fixtures").glob("CW*/pem_*/*")):
        if f.is_file() and not f.name.endswith(".yaml"):
            text = f.read_bytes().decode("latin-1")
            blocks += [(label, base64.b64decode("".join(body.split()) + "==", validate=False))
                       for label, body, _, _ in pem_blocks(text)] or [("DER", f.read_bytes())]

    @st.composite
    def damaged_material(draw):
        label, der = draw(st.sampled_from(blocks))
        der = draw(mutated(st.just(der)))
        label = draw(st.sampled_from([label, "CERTIFICATE", "PKCS7", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"]))
        if label == "DER":
            return der
        body = base64.encodebytes(der).decode()
        return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n".encode()

    pem_tokens = st.sampled_from(["-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", "-----BEGIN PKCS7-----",
                                  "-----END PKCS7-----", "-----BEGIN OPENSSH PRIVATE KEY-----",
                                  "-----END OPENSSH PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----",
                                  "-----END RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED", "MII", "b3BlbnNzaC1rZXktdjEA",
                                  "AAAA", "==", "\n", "\\n", " ", "\x00"])
    pem_noise = st.lists(pem_tokens, max_size=200).map(lambda t: "".join(t).encode())

    material = read_as("m.pem", "m.der")

    # The evaluators, and the diff parser on real repositories.
    import os
    import subprocess

    from eval_strategies import cfn_resolving_template, git_change, tf_locals_module
    from certwarden import diffbase
    from certwarden.sources.cloudformation.resolve import Resolver
    from certwarden.sources.loader import load

    def resolve(data: bytes) -> None:
        doc = load(data)
        resolver = Resolver(doc)
        for name in doc["Parameters"]:
            resolver.ref(name)
        for name in doc["Conditions"]:
            resolver.condition(name)
        for body in doc["Resources"].values():
            resolver.resolve(body["Properties"])

    def changed_lines(data: bytes) -> None:
        case = json.loads(data)
        eol = case["eol"]
        with tempfile.TemporaryDirectory() as tmp:
            def git(*args):
                subprocess.run(["git", "-C", tmp, *args], check=True, capture_output=True)

            def write(name, lines):
                text = eol.join(lines) + (eol if case["final_newline"] else "")
                (Path(tmp) / name).write_bytes(text.encode("utf-8"))
            git("init", "-q")
            git("config", "user.email", "fuzz@example.com")
            git("config", "user.name", "fuzz")
            for key, value in case["config"]:
                git("config", key, value)
            for name, lines in case["files"].items():
                write(name, lines)
            git("add", "-A")
            git("commit", "-qm", "base")
            for name, rewritten in case["changes"].items():
                lines = case["files"][name]
                write(name, [rewritten.get(str(i + 1), line) for i, line in enumerate(lines)])
            for name in case["untracked"]:
                write(name, ["new"])
            expected = {os.path.realpath(os.path.join(tmp, n)): {int(i) for i in r} for n, r in case["changes"].items()}
            expected.update({os.path.realpath(os.path.join(tmp, n)): diffbase.WHOLE for n in case["untracked"]})
            got = diffbase.changed_lines("HEAD", tmp)
            assert got == expected, f"changed lines {got!r}, expected {expected!r}"

    diff_tokens = st.sampled_from(["+++ b/x.yaml", "+++ /dev/null", '+++ "b/a\\tb\\303\\"', "--- a/x.yaml", "diff --git ",
                                   "@@ -1,2 +3,4 @@", "@@ -0,0 +1 @@", "@@ -5 +0,0 @@", "+", "-", " ", "++ b/y",
                                   "\\ No newline at end of file", "\n", "\t", "\\", '"', "\\000", "\x00", "\r"])
    diff_noise = st.lists(diff_tokens, max_size=300).map(lambda t: "".join(t).encode())

    def diff(data: bytes) -> None:
        diffbase.parse(data, "/nonexistent")

    out.update({
        "eval/tf-locals": (tf_locals_module().map(str.encode), tf_reader),
        "eval/cfn-resolve": (cfn_resolving_template().map(lambda d: json.dumps(d).encode()), resolve),
        "eval/cfn-template": (cfn_resolving_template().map(lambda d: json.dumps(d).encode()), reader),
        "diff/changed-lines": (git_change().map(lambda c: json.dumps(c).encode()), changed_lines),
        "pem/damaged-material": (damaged_material(), material),
        "pem/noise": (pem_noise, material),
        "diff/noise": (diff_noise, diff),
        "hcl/noise": (hcl_noise, hcl),
        "hcl/mutated-module": (mutate(modules), hcl),
        "tf-reader/module": (modules, tf_reader),
        "tf-reader/mutated-module": (mutate(modules), tf_reader),
    })
    return out


def child(names: list[str], deadline: float, last: Path, counts: Path) -> None:
    """Run targets round-robin in batches until the deadline; record every example and failure."""
    from hypothesis import HealthCheck, Phase, given, settings

    table = targets()
    tally = json.loads(counts.read_text()) if counts.exists() else {}
    while time.time() < deadline:
        for name in names:
            strategy, fn = table[name]

            @settings(max_examples=200, deadline=None, database=None, phases=[Phase.generate, Phase.shrink],
                      suppress_health_check=list(HealthCheck))
            @given(strategy)
            def run(data):
                last.write_bytes(name.encode() + b"\n" + data)
                tally.setdefault(name, {"examples": 0, "crashes": 0})["examples"] += 1
                fn(data)
            try:
                run()
            except Exception as exc:   # hypothesis re-raises the shrunk failure
                tally[name]["crashes"] += 1
                print(f"CRASH {name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", flush=True)
                save = last.with_name(f"crash-{name.replace('/', '-')}-{int(time.time() * 1000)}.bin")
                save.write_bytes(last.read_bytes())
            counts.write_text(json.dumps(tally))
            if time.time() >= deadline:
                break


HANG_SECONDS = 20   # one example taking this long is a hang (examples take milliseconds)
STARTUP_SECONDS = 120


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--out", type=Path, default=Path("/tmp/certwarden-fuzz"))
    ap.add_argument("--only", help="comma-separated target names")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    last, counts = args.out / "last-input.bin", args.out / "counts.json"
    counts.unlink(missing_ok=True)
    names = args.only.split(",") if args.only else None
    deadline = time.time() + args.minutes * 60
    deaths = hangs = 0
    while time.time() < deadline:
        code = ("import sys; sys.path[:0] = %r; import fuzz; fuzz.child(%r or list(fuzz.targets()), %r, "
                "fuzz.Path(%r), fuzz.Path(%r))" % ([str(Path(__file__).parent)], names, deadline, str(last), str(counts)))
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
        started = time.time()
        while proc.poll() is None:   # every example rewrites `last`: a stale one means a hang
            time.sleep(1)
            latest = last.stat().st_mtime if last.exists() else 0
            if latest < started:   # not one example yet: the child is still importing (slow on a busy machine)
                if time.time() - started > STARTUP_SECONDS:
                    proc.kill()
                    proc.wait()
                    print(f"the fuzzing process did not start within {STARTUP_SECONDS} s", flush=True)
                    return 2
            elif time.time() - latest > HANG_SECONDS:
                proc.kill()
                proc.wait()
                hangs += 1
                save = args.out / f"hang-{hangs}.bin"
                save.write_bytes(last.read_bytes())
                print(f"no progress for {HANG_SECONDS} s; input saved to {save}", flush=True)
                break
        else:
            if proc.returncode != 0:
                deaths += 1
                save = args.out / f"killed-{deaths}-signal{-proc.returncode}.bin"
                if last.exists():
                    save.write_bytes(last.read_bytes())
                print(f"child died (exit {proc.returncode}); input saved to {save}", flush=True)
    tally = json.loads(counts.read_text()) if counts.exists() else {}
    total = sum(t["examples"] for t in tally.values())
    crashes = sum(t["crashes"] for t in tally.values()) + deaths + hangs
    print(f"\n{args.minutes:g} min: {total} examples, {crashes} crashes "
          f"({deaths} killed the interpreter, {hangs} hung)")
    for name, t in sorted(tally.items()):
        print(f"  {name:<28} {t['examples']:>8} examples  {t['crashes']} crashes")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
