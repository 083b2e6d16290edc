"""The certwarden rule pack: one YAML file per rule, validated by rule.schema.json."""
