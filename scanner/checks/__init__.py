"""Python checks for what the condition language cannot say, registered by name and called from
rule files as {check: NAME, args: {...}}. Each returns True/False/None, a Hit, or an Unresolved.

Importing this package registers them all; the modules are named after what they look at.
"""
from . import certificates, inventory, lifetimes, policies, tls  # noqa: F401
