"""`certwarden schedule`: scans that AWS runs on a schedule, for one account or an organisation.

`stacks` writes the CloudFormation (a member role for a service-managed StackSet, and the
scanner: EventBridge Scheduler, a Step Functions state machine, Lambda functions, an encrypted
results bucket and topic); `handler` is the Lambda code, which runs `certwarden live` itself;
`package` builds the Lambda deployment zip. See docs/scheduled.md.
"""

RUNTIMES = ("python3.11", "python3.12", "python3.13")   # Lambda's Python runtimes the package is built for
ARCHITECTURES = ("arm64", "x86_64")
