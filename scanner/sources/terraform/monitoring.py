"""The resources that watch keys and certificates: EventBridge rules and AWS Config rules."""
from __future__ import annotations

from .. import normalize
from ..attrmap import BOOL, Conv, UPPER, TypeMap, at


def _pattern(r) -> None:
    if r.get("event_pattern") is not None:
        normalize.set_event_pattern(r.node, r.get("event_pattern"), r.spot("event_pattern"))


TYPES = {
    "aws_cloudwatch_event_rule": TypeMap("events_rule", {
        "enabled": (at("state", conv=Conv(normalize.rule_enabled)), at("is_enabled", conv=BOOL)),   # provider < 5
    }, build=_pattern),
    "aws_config_config_rule": TypeMap("config_rule", {"source_identifier": at("source", "source_identifier",
                                                                              conv=UPPER)}),
}
FOLDERS = {}
