"""Every account of an AWS Organization, each read through a role assumed in it.

From the management (or delegated-admin) account: `organizations:ListAccounts` names the ACTIVE
accounts, and `sts:AssumeRole` on `arn:PARTITION:iam::ACCOUNT:role/NAME` gives a Reader for each.
An account whose role cannot be assumed is one InputError named `aws://ACCOUNT`; the others are
read. Roles are assumed in threads: for a large organisation the round trips add up.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from ...errors import InputError
from .aws import MAX_ATTEMPTS, TIMEOUT, Reader, assumed, client_config, largest_page, problem, session

DEFAULT_ROLE = "certwarden-read"


@dataclass
class Organization:
    readers: list[Reader] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)


def active_accounts(session, region: str, endpoint_url: str | None, config) -> list[tuple[str, str]]:
    """(account ID, partition) of every ACTIVE account, in the order the API lists them."""
    org = session.client("organizations", region_name=region, endpoint_url=endpoint_url, config=config)
    out = []
    size = largest_page(org, "list_accounts")   # 20: a page per 20 accounts
    for page in org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": size} if size else {}):
        for account in page.get("Accounts", []):
            if account.get("Status", "ACTIVE") == "ACTIVE":   # SUSPENDED and PENDING_CLOSURE cannot be read
                out.append((account["Id"], account["Arn"].split(":")[1]))
    return out


def role_arn(partition: str, account: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def readers(profile: str | None, role_name: str = DEFAULT_ROLE, only: list[str] | None = None,
            exclude: list[str] | None = None, external_id: str | None = None, endpoint_url: str | None = None,
            max_attempts: int | None = None, threads: int = 8, timeout: float = TIMEOUT) -> Organization:
    """A Reader for each ACTIVE account (only those in `only`, when given; never those in
    `exclude`). Raises ClientError/BotoCoreError when the accounts cannot be listed at all."""
    base = session(profile_name=profile)
    region = base.region_name or "us-east-1"
    config = client_config(max_attempts or MAX_ATTEMPTS, timeout)
    wanted = [(a, p) for a, p in active_accounts(base, region, endpoint_url, config)
              if (not only or a in only) and a not in (exclude or ())]
    sts = base.client("sts", region_name=region, endpoint_url=endpoint_url, config=config)
    extra = {"ExternalId": external_id} if external_id else {}

    def assume(item: tuple[str, str]) -> Reader | InputError:
        account, partition = item
        arn = role_arn(partition, account, role_name)
        try:
            role = assumed(sts, arn, region, **extra)
        except (ClientError, BotoCoreError) as exc:
            return InputError(f"aws://{account}", f"role {arn} not assumed, account not read: {problem(exc)}")
        return Reader(role, account, endpoint_url, config, timeout)

    out = Organization()
    with ThreadPoolExecutor(max(1, min(threads, len(wanted)))) as pool:
        for got in pool.map(assume, wanted):
            (out.errors if isinstance(got, InputError) else out.readers).append(got)
    missing = sorted(set(only or ()) - {a for a, _ in wanted} - set(exclude or ()))
    out.errors.extend(InputError(f"aws://{a}", "not an ACTIVE account of the organization") for a in missing)
    return out
