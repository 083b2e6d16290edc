"""certwarden: policy-as-code scanner for AWS key and certificate management."""

__version__ = "0.1.0"
