"""What watches certificates for expiry, as events_rule and config_rule nodes: EventBridge rules
and AWS Config rules. CW801 looks for them in the same account as the certificates."""
from __future__ import annotations

from .. import normalize
from .aws import Ctx


def collect_events(ctx: Ctx) -> None:
    events = ctx.client("events")
    # The default bus only: ACM sends its expiry events there, so rules on other buses never see them.
    for rule in ctx.pages(events, "list_rules", "Rules"):
        node = ctx.node("events_rule", rule["Arn"], rule["Name"], "AWS::Events::Rule")
        if rule.get("EventPattern"):   # a scheduled rule has none: it matches no event
            normalize.set_event_pattern(node, rule["EventPattern"], None)
        node.set("enabled", normalize.rule_enabled(rule.get("State", "ENABLED")))


def collect_config(ctx: Ctx) -> None:
    config = ctx.client("config")
    for rule in ctx.pages(config, "describe_config_rules", "ConfigRules"):
        if rule.get("ConfigRuleState") == "DELETING":   # on its way out: it watches nothing any more
            continue
        node = ctx.node("config_rule", rule["ConfigRuleArn"], rule["ConfigRuleName"], "AWS::Config::ConfigRule")
        ident = rule.get("Source", {}).get("SourceIdentifier")
        if ident:
            node.set("source_identifier", normalize.upper(ident))
