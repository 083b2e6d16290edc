"""Hostile inputs, written quickly into a directory: shared by the robustness tests and the fuzz script."""
from __future__ import annotations

import os
from pathlib import Path

GOOD = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeySpec: SYMMETRIC_DEFAULT\n"
HEAD = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      Description: "


def billion_laughs(levels: int = 9) -> str:
    """Each anchor holds nine aliases of the previous one: 9**9 nodes once expanded."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nResources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties: {{Tags: *a{levels - 1}}}\n"


DEPTH = 100_000
CASES = {
    # name: (content, expected one-line message)
    "bomb.yaml": (billion_laughs(), "alias expansion exceeds 2000000 nodes (YAML alias bomb?)"),
    # An alias inside its own anchor: a cycle (found by tests/perf/fuzz.py, it used to hang).
    "recursive-merge.yaml": ("Resources: &a\n  <<: *a\n", "recursive alias (a YAML alias inside its own anchor)"),
    "recursive-twice.yaml": (HEAD + "&b [*b, *b]\n", "recursive alias (a YAML alias inside its own anchor)"),
    "deep.json": ('{"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": '
                  + "[" * DEPTH + "]" * DEPTH + "}}}", "nesting deeper than 200 levels"),
    "deep-flow.yaml": (HEAD + "{a: " * DEPTH + "}" * DEPTH + "\n", "nesting deeper than 200 levels"),
    "deep-block.yaml": (HEAD + "\n        " + "- " * DEPTH + "x\n", "nesting deeper than 200 levels"),
    "deep-keys.yaml": (HEAD + "\n        " + "? " * DEPTH + "x\n", "nesting deeper than 200 levels"),
    "binary.json": (b"\x7fELF\x02\x01\x01\x00" + b"\x00Resources AWS::" * 64, "binary file, not a template"),
    "latin1.yaml": ((GOOD + "      Description: caf\xe9\n").encode("latin-1"),
                    f"not UTF-8 text (byte 0xe9 at offset {len(GOOD) + 22})"),
    "broken.yaml": ("Resources:\n  Key: {Type: AWS::KMS::Key\n", "invalid YAML: did not find expected ',' or '}'"),
}


def write_cases(directory: Path, names=None) -> dict[str, str]:
    """Write the cases (all, or those named) plus good.yaml; returns name -> expected message."""
    expected = {}
    for name, (content, message) in CASES.items():
        if names is not None and name not in names:
            continue
        data = content.encode() if isinstance(content, str) else content
        (directory / name).write_bytes(data)
        expected[name] = message
    (directory / "good.yaml").write_text(GOOD)
    return expected


def sparse_file(path: Path, size: int) -> None:
    """A file of `size` bytes written in no time: a template head, then a hole."""
    with open(path, "wb") as fh:
        fh.write(GOOD.encode())
        fh.truncate(size)
    os.utime(path)


GOOD_TF = 'resource "aws_kms_key" "good" {\n  description = "k"\n}\n'
TF_CASES = {
    # module directory: (main.tf content, expected one-line message)
    # 20k levels: deep enough to overflow a recursive walk, small enough to pass the size limit.
    "deep-blocks": ("b {\n" * 20_000 + "}\n" * 20_000, "nesting deeper than 200 levels"),
    "deep-parens": ("locals {\n  a = " + "(" * DEPTH + "1" + ")" * DEPTH + "\n}\n", "nesting deeper than 200 levels"),
    # Expression-dense HCL is what makes Lark slow and big: refused by size before parsing.
    "dense": ("locals {\n  a = " + "var.x ? " * 70_000 + "1" + " : 2" * 70_000 + "\n}\n",
              "file is 820 KiB, over the 512 KiB limit for HCL"),
    "binary": (b"\x00\x01resource" * 64, "binary file, not Terraform"),
    "latin1": ('resource "aws_kms_key" "k" {\n  description = "caf\xe9"\n}\n'.encode("latin-1"),
               "not UTF-8 text (byte 0xe9 at offset 49)"),
}


def write_tf_cases(directory: Path) -> dict[str, str]:
    """One module directory per case, plus good/ (a key without rotation); returns main.tf path
    (relative) -> expected message."""
    expected = {}
    for name, (content, message) in TF_CASES.items():
        (directory / name).mkdir()
        data = content.encode() if isinstance(content, str) else content
        (directory / name / "main.tf").write_bytes(data)
        expected[f"{name}/main.tf"] = message
    (directory / "good").mkdir()
    (directory / "good" / "main.tf").write_text(GOOD_TF)
    return expected


# -- evaluation bombs: values far larger than the text that writes them --------------------------
def tf_locals_bomb(levels: int = 12) -> str:
    """1.1 KB of HCL: each local is eight copies of the one before (8**12 characters at the end)."""
    names = "abcdefghijklmnopqrstuvwxyz"[:levels]
    lines = [f'  {names[0]} = "xxxxxxxx"'] + [
        f'  {n} = "' + "${local.%s}" % prev * 8 + '"' for prev, n in zip(names, names[1:])]
    return ("locals {\n" + "\n".join(lines) + "\n}\n\n"
            f'resource "aws_kms_key" "bomb" {{\n  deletion_window_in_days = local.{names[-1]}\n}}\n')


def tf_nested_for(items: int = 3000, depth: int = 3) -> str:
    """A for inside a for over `items` values: items**depth elements."""
    body = "x0"
    for i in range(depth):
        body = f"[for x{i} in local.xs : {body}]"
    return ("locals {\n  xs = split(\",\", \"" + ",".join(str(i) for i in range(items)) + "\")\n"
            f"  all = {body}\n}}\n\n"
            'resource "aws_kms_key" "bomb" {\n  deletion_window_in_days = local.all[0]\n}\n')


def cfn_sub_chain(levels: int = 30) -> str:
    """Parameter defaults that each !Sub the one before twice: 2**levels resolutions on old code,
    a 2**levels-character string once resolved."""
    params = ["  P0: {Type: String, Default: x}"] + [
        f'  P{i}: {{Type: String, Default: !Sub "${{P{i - 1}}}${{P{i - 1}}}"}}' for i in range(1, levels + 1)]
    return ("Parameters:\n" + "\n".join(params) + "\nResources:\n  Key:\n    Type: AWS::KMS::Key\n"
            f"    Properties:\n      KeySpec: SYMMETRIC_DEFAULT\n      Tags: [{{Key: env, Value: !Ref P{levels}}}]\n")
