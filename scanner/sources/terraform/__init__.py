"""Terraform: modules (HCL) and plan files into the normalized graph, and fixes back into HCL.

- hcl.py parses HCL with positions; parsed.py caches parse trees; modules.py reads a module's
  files, variables and module calls; plan.py reads `terraform show -json` output;
- expressions.py evaluates expressions, with Terraform's functions in functions.py and the values
  that are not plain Python (references, partly known text) in values.py;
- kms.py, pca.py, s3.py, acm.py, iam.py, secrets.py, tls.py, monitoring.py, cloudhsm.py: per
  service, the attribute map of each resource type and the folding of helper resources
  (builder.py lists and applies them);
- fix.py turns a rule's normalized fix into edits of HCL, through the same maps.

Nothing is imported here: the HCL parser costs startup time, and the cache's codec needs only
values.py.
"""
