"""What users do, as plain functions the CLI and the HTTP service both call: import, export, report,
check, change status. They take a ``Store`` and return typed results; they never print."""
