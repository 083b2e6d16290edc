"""CloudFormation: templates (YAML, JSON, SAM, cdk synth output) into the normalized graph, and
fixes back into their text.

- template.py walks a template; resolve.py resolves intrinsic functions and parameters;
- kms.py, pca.py, s3.py, acm.py, iam.py, secrets.py, tls.py, monitoring.py: per service, the
  attribute map of each resource type and the folding of helper resources;
- fix.py turns a rule's normalized fix into edits of the template's text, through the same maps.

Nothing is imported here: a module needing one of these imports it.
"""
