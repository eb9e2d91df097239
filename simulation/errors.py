"""One small exception hierarchy, so the CLI can turn any of them into one clear message."""


class ClienteleError(Exception):
    """Base of every error Clientele raises on purpose (bad input, failed report)."""


class ScenarioError(ClienteleError):
    """A scenario file or override is malformed or out of range."""


class DataError(ClienteleError):
    """A customer ledger or transaction log has bad rows or columns."""


class ReportError(ClienteleError):
    """A report notebook failed, or its parameters were refused."""
