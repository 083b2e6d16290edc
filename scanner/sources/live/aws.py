"""boto3 plumbing for live reads: clients that can only read, retries, and errors in one line.

Every client comes from `Reader.client`, which registers a guard on botocore's `before-call`
event: an operation whose name does not start with Describe, Get, List or Head is refused
before it is sent, so a collector cannot change an account even by mistake.
"""
from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from ...model import Node, Unresolved, Where

READ_ONLY = re.compile(r"^(Describe|Get|List|Head)[A-Z]")
# Identity calls the reader itself makes: they read nothing and change nothing in the account.
IDENTITY = {"sts": {"AssumeRole", "GetCallerIdentity"}}

MAX_ATTEMPTS = 8
# Calls a second AWS allows per account and region, for the per-resource reads a collector sends
# side by side where the quota is low enough to reach (ACM's quota table: 10 a second each). The
# KMS and S3 reads allow thousands a second, more than a collector's threads can send; adaptive
# retries back off from whatever throttling is left.
RATES = {"acm:DescribeCertificate": 10, "acm:GetCertificate": 10, "acm:ListTagsForCertificate": 10}
TIMEOUT = 600.0   # seconds one service in one region may take (--timeout)


def client_config(max_attempts: int = MAX_ATTEMPTS, timeout: float = TIMEOUT) -> Config:
    """Adaptive retries back off on throttling; socket timeouts, never longer than the deadline,
    keep one slow endpoint from holding the whole scan."""
    return Config(retries={"mode": "adaptive", "max_attempts": max_attempts}, connect_timeout=min(5, timeout),
                  read_timeout=min(30, timeout), user_agent_extra="certwarden")

DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
          "UnauthorizedAccess", "AuthorizationErrorException"}
THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
             "SlowDown", "ProvisionedThroughputExceededException"}
NOT_ENABLED = {"UnrecognizedClientException", "InvalidClientTokenId", "OptInRequired", "AuthFailure",
               "SubscriptionRequiredException"}


class Rate:
    """A token bucket: `per_second` calls a second on average, as many at once after a pause."""

    def __init__(self, per_second: float):
        self.per_second, self.tokens, self.at = per_second, float(per_second), time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.per_second, self.tokens + (now - self.at) * self.per_second) - 1
            self.at = now
            delay = -self.tokens / self.per_second if self.tokens < 0 else 0.0
        if delay:
            time.sleep(delay)


class WriteRefused(RuntimeError):
    """A collector asked for an operation that is not a read."""


class DeadlineExceeded(RuntimeError):
    """The service-region's --timeout passed: its read stops before the next request is sent.
    Not a BotoCoreError, so it ends the whole service-region rather than one resource's read."""


def _refuse_writes(model, **_) -> None:
    service = model.service_model.endpoint_prefix
    if not READ_ONLY.match(model.name) and model.name not in IDENTITY.get(service, ()):
        raise WriteRefused(f"{service}:{model.name} is not a read; certwarden only reads")


def problem(exc: BaseException) -> str:
    """What went wrong with an AWS call, in a few words (never a stack trace)."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "") or "error"
        op = getattr(exc, "operation_name", "") or "call"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in DENIED or (status == 403 and code not in NOT_ENABLED):
            return f"access denied ({op})"
        if code in THROTTLED:
            return f"throttled, still after retries ({op})"
        if code in NOT_ENABLED:
            return f"credentials not accepted here, region not enabled? ({code})"
        # One line, and no markup: a proxy or stand-in may answer with an HTML or XML page.
        message = " ".join(exc.response.get("Error", {}).get("Message", "").split())
        if message.startswith("<"):
            message = ""
        return f"{code} ({op}){': ' + message[:120] if message else ''}"
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return "timed out"
    if isinstance(exc, EndpointConnectionError):
        return "endpoint not reachable (service not offered in this region?)"
    if isinstance(exc, (WriteRefused, DeadlineExceeded)):
        return str(exc)
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__
    return f"{type(exc).__name__}: {exc}"[:160]


@dataclass
class Reader:
    """The credentials of one account, and how clients are made from them."""

    session: Any                      # boto3.Session
    account: str
    endpoint_url: str | None = None   # a local stand-in (moto) in tests and demos
    config: Config = field(default_factory=client_config)
    timeout: float = TIMEOUT          # seconds each service-region may take
    calls: Counter = field(default_factory=Counter)   # "signing-name:Operation" -> calls sent
    _lock: threading.Lock = field(default_factory=threading.Lock)        # the session, while a client is made
    _counting: threading.Lock = field(default_factory=threading.Lock)    # calls and rates, at every call
    _rates: dict[tuple[str, str], Rate] = field(default_factory=dict)   # (region, call) -> its bucket

    def __post_init__(self):
        # AWS_ENDPOINT_URL (how LocalStack users point every tool at it) is --endpoint-url: the
        # S3 Control fix below needs it as much
        self.endpoint_url = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None

    def client(self, service: str, region: str):
        # Sessions are not thread-safe; clients are. Collectors run in threads.
        with self._lock:
            client = self.session.client(service, region_name=region, endpoint_url=self.endpoint_url,
                                         config=self.config)
        client.meta.events.register("before-call.*.*", _refuse_writes)
        client.meta.events.register("before-call.*.*", self._record)
        client.meta.events.register("before-call.*.*", functools.partial(self._pace, region))
        if self.endpoint_url and service == "s3control":
            client.meta.events.register("before-sign.s3-control.*", _on_endpoint(self.endpoint_url))
        return client

    def _record(self, model, **_) -> None:
        with self._counting:
            self.calls[f"{model.service_model.signing_name}:{model.name}"] += 1

    def _pace(self, region: str, model, **_) -> None:
        """Wait for a call with a low quota (RATES) to be within it: quotas are per account and
        region, so every client and thread of this account in that region shares one bucket."""
        call = f"{model.service_model.signing_name}:{model.name}"
        if call not in RATES:
            return
        with self._counting:
            rate = self._rates.setdefault((region, call), Rate(RATES[call]))
        rate.wait()


def _on_endpoint(endpoint_url: str) -> Callable[..., None]:
    """S3 Control sends to ACCOUNT.<endpoint>; a local stand-in (moto) answers only on its own
    host, so the account prefix is taken off again (before signing, so the signature matches)."""
    netloc = urlsplit(endpoint_url).netloc

    def back_to_endpoint(request, **_) -> None:
        request.url = urlunsplit(urlsplit(request.url)._replace(netloc=netloc))
    return back_to_endpoint


@dataclass
class Ctx:
    """What a collector gets for one service in one region: clients, and a place for its nodes.
    Its deadline (the reader's timeout from when it was made) is checked before every request."""

    reader: Reader
    region: str
    regions: tuple[str, ...] = ()   # the scan's regions, which a collector read once per account keeps to
    nodes: list[Node] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)   # reads that failed for one resource
    deadline: float = 0.0    # time.monotonic() after which no request is sent

    def __post_init__(self) -> None:
        self.deadline = self.deadline or time.monotonic() + self.reader.timeout

    @property
    def account(self) -> str:
        return self.reader.account

    def client(self, service: str, region: str | None = None):
        """A client of this region (or another, for S3 buckets read where they live)."""
        client = self.reader.client(service, region or self.region)
        # before-send fires for every HTTP attempt: pages and retries are checked too
        client.meta.events.register("before-send.*.*", self._check_deadline)
        return client

    def _check_deadline(self, event_name: str = "", **_) -> None:
        if time.monotonic() > self.deadline:
            raise DeadlineExceeded(f"timed out: not read within --timeout {self.reader.timeout:g} s "
                                   f"(stopped before {event_name.rsplit('.', 1)[-1]})")

    def fork(self) -> "Ctx":
        """A Ctx with the same reader, region and deadline and lists of its own, for work done in
        another thread; `merge` takes its nodes and failures back, in an order of the caller's."""
        return replace(self, nodes=[], partial=[])

    def merge(self, other: "Ctx") -> None:
        self.nodes.extend(other.nodes)
        self.partial.extend(other.partial)

    def each(self, items: list, read: Callable[["Ctx", Any], None], threads: int) -> None:
        """`read(ctx, item)` for every item, up to `threads` at once (each resource's reads only
        wait on the network), each in a fork of this Ctx merged back in the items' order, so the
        result does not depend on timing. A failure that is not one resource's (the deadline)
        ends the whole service, as it would one item at a time."""
        forks = [self.fork() for _ in items]
        if threads <= 1 or len(items) <= 1:
            for fork, item in zip(forks, items):
                read(fork, item)
        else:
            with ThreadPoolExecutor(min(threads, len(items))) as pool:
                for done in [pool.submit(read, fork, item) for fork, item in zip(forks, items)]:
                    done.result()
        for fork in forks:
            self.merge(fork)

    def where(self, arn: str) -> Where:
        return Where(arn=arn, region=self.region, account=self.account)

    def node(self, kind: str, arn: str, name: str, type_: str) -> Node:
        node = Node(id=arn, kind=kind, name=name, source="live", where=self.where(arn), type=type_)
        node.set("arn", arn)
        self.nodes.append(node)
        return node

    def pages(self, client, operation: str, key: str, **kwargs) -> Iterator[Any]:
        """Every item under `key` in every page of a listing, in pages as large as the API allows
        (KMS lists 100 keys a page unless asked for up to 1000: a tenth of the calls)."""
        size = largest_page(client, operation)
        config = {"PaginationConfig": {"PageSize": size}} if size else {}
        for page in client.get_paginator(operation).paginate(**kwargs, **config):
            yield from page.get(key, [])

    def detail(self, call: Callable[..., dict], what: str, **kwargs) -> dict | Unresolved:
        """One read about one resource; when it fails, the answer is Unresolved (so no rule
        fires on it) and the failure is reported once for the service and region."""
        try:
            return call(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            return self.failed(what, exc, _named(kwargs))

    def optional(self, call: Callable[..., dict], what: str, absent: set[str], **kwargs) -> dict | Unresolved | None:
        """Like `detail`, for a setting a resource may not have: None when AWS answers with one of
        the `absent` error codes (no such configuration), which is not a failure."""
        try:
            return call(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in absent:
                return None
            return self.failed(what, exc, _named(kwargs))
        except BotoCoreError as exc:
            return self.failed(what, exc, _named(kwargs))

    def failed(self, what: str, exc: BaseException, resource: str | None = None) -> Unresolved:
        """Record a read that failed for one resource (named when known); its value is unknown."""
        self.partial.append(f"{what}{f' of {resource}' if resource else ''}: {problem(exc)}")
        return Unresolved(f"{what} not readable: {problem(exc)}")


def _named(kwargs: dict) -> str | None:
    """The resource a read is about: its first argument (KeyId, Bucket, CertificateArn, ...)."""
    first = next(iter(kwargs.values()), None)
    return first if isinstance(first, str) else None


_MODELS = threading.Lock()


@functools.lru_cache(maxsize=None)
def _shared_loader():
    from botocore.loaders import create_loader

    return create_loader(os.environ.get("AWS_DATA_PATH"))


def _loader():
    with _MODELS:   # once, not once per thread that asks first
        return _shared_loader()


def session(provider=None, **kwargs):
    """A boto3 Session whose API models come from one loader for every account: each session
    would otherwise find, read and parse the same JSON models again (80 ms a client). A
    credential provider given comes before every other source of credentials."""
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", _loader())
    if provider is not None:
        core.get_component("credential_provider").insert_before("env", provider)
    return boto3.Session(botocore_session=core, **kwargs)


def assumed(sts, arn: str, region: str, **extra):
    """A session on a role's credentials that renews them before they expire: a role session
    lasts an hour by default, and an organisation's scan can outlast it. The first AssumeRole is
    made now, so a role that cannot be assumed is reported before anything is read."""
    from botocore.credentials import CredentialProvider, RefreshableCredentials

    def fetch() -> dict:
        c = sts.assume_role(RoleArn=arn, RoleSessionName="certwarden", **extra)["Credentials"]
        return {"access_key": c["AccessKeyId"], "secret_key": c["SecretAccessKey"], "token": c["SessionToken"],
                "expiry_time": c["Expiration"].isoformat()}

    credentials = RefreshableCredentials.create_from_metadata(fetch(), fetch, "assume-role")

    class Assumed(CredentialProvider):
        METHOD = "assume-role"

        def load(self):
            return credentials

    return session(Assumed(), region_name=region)


@functools.lru_cache(maxsize=None)
def _paginator_model(service: str):
    from botocore.paginate import PaginatorModel

    return PaginatorModel(_shared_loader().load_service_model(service, "paginators-1"))


def _paginators(service: str):
    with _MODELS:
        return _paginator_model(service)


def largest_page(client, operation: str) -> int | None:
    """The largest page the API model allows for a paginated operation (None: no limit to set)."""
    model = client.meta.service_model
    name = client.meta.method_to_api_mapping.get(operation, operation)
    try:
        limit_key = _paginators(model.service_name).get_paginator(name).get("limit_key")
    except ValueError:   # not a paginated operation
        return None
    member = model.operation_model(name).input_shape.members.get(limit_key) if limit_key else None
    return member.metadata.get("max") if member is not None else None


def readers(profile: str | None, role_arns: list[str], endpoint_url: str | None = None,
            max_attempts: int = MAX_ATTEMPTS, timeout: float = TIMEOUT) -> list[Reader]:
    """The account of the current credentials, or each account whose role is given (assumed from
    them). Raises ClientError/BotoCoreError when the credentials themselves do not work."""
    base = session(profile_name=profile)
    region = base.region_name or "us-east-1"
    config = client_config(max_attempts, timeout)

    def identity(session) -> str:
        return session.client("sts", region_name=region, endpoint_url=endpoint_url,
                              config=config).get_caller_identity()["Account"]
    if not role_arns:
        return [Reader(base, identity(base), endpoint_url, config, timeout)]
    out = []
    sts = base.client("sts", region_name=region, endpoint_url=endpoint_url, config=config)
    for arn in role_arns:
        role = assumed(sts, arn, region)
        out.append(Reader(role, identity(role), endpoint_url, config, timeout))
    return out


# Account ListRegions statuses, and EC2 DescribeRegions opt-in statuses, of a region the account can use.
ENABLED = ("ENABLED", "ENABLED_BY_DEFAULT")
EC2_ENABLED = ("opt-in-not-required", "opted-in")


def all_regions(reader: Reader) -> list[str]:
    """The regions enabled for the account (not botocore's static list, which holds opt-in
    regions it may never have enabled): Account ListRegions, or EC2 DescribeRegions when that
    is refused. Raises ClientError / BotoCoreError when neither can be read."""
    home = reader.session.region_name or "us-east-1"
    try:
        pages = reader.client("account", home).get_paginator("list_regions").paginate(
            RegionOptStatusContains=list(ENABLED))
        return sorted(r["RegionName"] for page in pages for r in page.get("Regions", []))
    except (ClientError, BotoCoreError):
        pass   # not allowed account:ListRegions, or an endpoint without the Account API
    regions = reader.client("ec2", home).describe_regions(
        Filters=[{"Name": "opt-in-status", "Values": list(EC2_ENABLED)}])["Regions"]
    # the filter again, and the partition of these credentials: a stand-in may answer with more
    partition = reader.session.get_partition_for_region(home)
    return sorted(r["RegionName"] for r in regions if r.get("OptInStatus", EC2_ENABLED[0]) in EC2_ENABLED
                  and reader.session.get_partition_for_region(r["RegionName"]) == partition)
