"""What counts as a public Allow: principal, NotPrincipal and the conditions that narrow it."""
import pytest

from certwarden.model import SELF_ACCOUNT, Unresolved, Where
from certwarden.policy import account_of, is_root, parse, public_allow


def statement(**st):
    return parse({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", **st}]}, Where()).statements[0]


@pytest.mark.parametrize("principal,condition,public", [
    ("*", None, True),
    ({"AWS": "*"}, None, True),
    ({"AWS": ["arn:aws:iam::111122223333:root", "*"]}, None, True),
    (["foo", "*"], None, True),                                    # not valid IAM, still everyone
    ({"Service": "cloudfront.amazonaws.com"}, None, False),
    ("*", {"StringEquals": {"aws:SourceAccount": "111122223333"}}, False),
    ("*", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),   # as S3 Block Public Access sees it
    ("*", {"StringEquals": {"aws:VpceAccount": "111122223333"}}, False),
    ("*", {"StringLike": {"aws:PrincipalOrgID": "*"}}, True),           # a wildcard narrows nothing
    ("*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}, True),
    ("*", {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*"}}, True),
    ("*", {"StringLike": {"aws:Referer": "https://example.com/*"}}, True),   # a header anyone can send
])
def test_public_allow(principal, condition, public):
    st = statement(Principal=principal, **({"Condition": condition} if condition else {}))
    assert public_allow(st) is public


def test_deny_and_not_principal():
    assert public_allow(parse({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*"}]},
                              Where()).statements[0]) is False
    assert public_allow(statement(NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"})) is True


def test_unknown_parts_are_unknown_not_guessed():
    assert public_allow(statement(Principal=Unresolved("param"))) is None
    assert public_allow(statement(Principal="*", Condition={"StringEquals": {"aws:SourceAccount": Unresolved("p")}})) is None
    assert isinstance(parse("{${var.x}}", Where()), Unresolved)


def test_accounts_and_root():
    assert account_of("AWS:arn:aws:iam::111122223333:role/app") == "111122223333"
    assert account_of("AWS:" + SELF_ACCOUNT) == SELF_ACCOUNT
    assert account_of("Service:s3.amazonaws.com") is None
    assert is_root("AWS:arn:aws:iam::111122223333:root") and is_root("AWS:111122223333")
    assert not is_root("AWS:arn:aws:iam::111122223333:role/admin")
