"""The rule vocabulary is enforced: a rule naming a kind or an attribute the model does not
declare is refused at load, and every attribute a source emits is declared (kinds.KINDS)."""
from __future__ import annotations

import shutil

import pytest

from conftest import FIXTURES, ROOT
from certwarden import certs
from certwarden.kinds import KINDS
from certwarden.rulepack import RuleError, load_rules
from certwarden.sources.units import Unit, read_unit
from test_live import REGION
from test_live_policy import one_of_everything


def misspelt(tmp_path, code: str, old: str, new: str, rename: bool = False):
    text = (ROOT / "rules" / f"{code}.yaml").read_text()
    assert old in text
    if rename:   # a user's copy of a shipped rule needs its own code and name
        text = text.replace(code, "ACME" + code[2:]).replace("name: ", "name: acme-", 1)
    path = tmp_path / f"{code}.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_misspelt_attribute_in_a_rules_dir_rule_is_refused_with_the_nearest_name(tmp_path, run_cli):
    path = misspelt(tmp_path, "CW101", "{attr: rotation_enabled", "{attr: rotaton_enabled", rename=True)
    code, _, err = run_cli("scan", FIXTURES / "CW101", "--rules-dir", tmp_path)
    assert code == 2
    assert err.strip().splitlines() == [f"certwarden: error: {path}: ACME101: when.all[5].attr: unknown attribute "
                                        "'rotaton_enabled' for kms_key (nearest: rotation_enabled)"]


def test_a_misspelt_kind_in_a_rules_dir_rule_is_refused(tmp_path, run_cli):
    path = misspelt(tmp_path, "CW101", "kinds: [kms_key]", "kinds: [kms_keys]", rename=True)
    code, _, err = run_cli("rules", "--rules-dir", tmp_path)
    assert code == 2
    assert f"{path}: ACME101: kinds[0]: unknown kind 'kms_keys' (nearest: kms_key)" in err


@pytest.mark.parametrize("code,old,new,message", [
    ("CW101", "{attr: rotation_enabled", "{attr: rotaton_enabled",
     "when.all[5].attr: unknown attribute 'rotaton_enabled' for kms_key (nearest: rotation_enabled)"),
    ("CW304", "kinds: [pca_authority]", "kinds: [pca_authorty]",
     "kinds[0]: unknown kind 'pca_authorty' (nearest: pca_authority)"),
    ("CW205", "at: not_after", "at: not_afer", "at[0]: unknown attribute 'not_afer' for "
     "certificate/acm_certificate/iam_server_certificate (nearest: not_after)"),
])
def test_a_misspelt_shipped_rule_is_refused(tmp_path, monkeypatch, code, old, new, message):
    pack = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", pack)
    misspelt(pack, code, old, new)
    monkeypatch.setattr("certwarden.rulepack._pack_dir", lambda: pack)
    with pytest.raises(RuleError) as err:
        load_rules()
    assert str(err.value) == f"{pack / (code + '.yaml')}: {code}: {message}"


def undeclared(graphs) -> set[tuple[str, str]]:
    out = set()
    for graph in graphs:
        certs.apply_certificate_pem(graph)   # as every scan does before the rules run
        for node in graph.nodes.values():
            if node.kind not in KINDS:
                out.add((node.kind, "(kind)"))
            out |= {(node.kind, a) for a in node.attrs if a not in KINDS.get(node.kind, {})}
    return out


def test_every_attribute_the_template_and_material_sources_emit_is_declared():
    graphs = []
    for entry in sorted(p for d in FIXTURES.iterdir() if d.is_dir() for p in d.iterdir()):
        if entry.is_dir():
            unit = Unit("module", str(entry), files=tuple(str(f) for f in sorted(entry.glob("*.tf"))),
                        roots=(str(entry),))
        elif entry.suffix in (".yaml", ".json", ".pem", ".der", ".crt", ".key", ".template"):
            unit = Unit("file", str(entry), explicit=True)
        else:
            continue
        graphs += read_unit(unit)[0]
    assert len(graphs) > 150
    assert undeclared(graphs) == set()


@pytest.mark.live
def test_every_attribute_the_live_collectors_emit_is_declared(aws):
    from certwarden.sources import live
    from certwarden.sources.live.aws import readers

    one_of_everything(aws)
    reader, = readers(None, [], aws)
    got = live.read([reader], [REGION], list(live.SERVICES))
    assert got.errors == [] and got.graphs
    assert undeclared(got.graphs) == set()


def _maps():
    from certwarden.sources.cloudformation import template
    from certwarden.sources.terraform import builder
    for fmt, types in (("cfn", template.TYPES), ("tf", {**builder.TYPES, **builder.HELPERS}),
                       ("cfn", {"(tagged)": template.tagged}), ("tf", {"(tagged)": builder.tagged})):
        for rtype, spec in types.items():
            yield fmt, rtype, spec


@pytest.mark.parametrize("fmt,rtype,spec", [pytest.param(*m, id=f"{m[0]}:{m[1]}") for m in _maps()])
def test_every_attribute_an_adapter_map_declares_is_in_the_vocabulary(fmt, rtype, spec):
    """The maps are data: each kind and attribute they name is checked without reading a file."""
    assert spec.kind in KINDS
    names = {*spec.attrs, *spec.defaults}
    assert names - set(KINDS[spec.kind]) == set()
