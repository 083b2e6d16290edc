"""The resources that watch keys and certificates: EventBridge rules and AWS Config rules."""
from __future__ import annotations

from .. import normalize
from ..attrmap import Conv, UPPER, TypeMap, at


def _pattern(r) -> None:
    pattern = r.get("EventPattern")
    if pattern is not None:
        normalize.set_event_pattern(r.node, pattern, r.spot("EventPattern"))


TYPES = {
    "AWS::Events::Rule": TypeMap("events_rule", {"enabled": at("State", conv=Conv(normalize.rule_enabled))},
                                 build=_pattern),
    "AWS::Config::ConfigRule": TypeMap("config_rule", {"source_identifier": at("Source", "SourceIdentifier",
                                                                               conv=UPPER)}),
}
FOLDERS = {}
