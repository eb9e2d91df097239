"""One small exception hierarchy, so the CLI can turn any of them into one clear message."""


class ClienteleError(Exception):
    """Base of every error Clientele raises on purpose (bad input, failed report)."""


class ScenarioError(ClienteleError):
    """A scenario file or override is malformed or out of range."""


class DataError(ClienteleError):
    """A customer ledger or transaction log has bad rows or columns."""


class ReportError(ClienteleError):
    """A report notebook failed, or its parameters were refused."""


_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), *range(0x7f, 0xa0)) if chr(code) not in "\n\t"}


def terminal_text(message: str) -> str:
    """A message as a terminal may show it: a file or name's control characters (ESC, BEL) escaped as \\x1b,
    so a name cannot recolour, retitle or rewrite the analyst's terminal; the message's own lines stay."""
    return message.translate(_CONTROL)
