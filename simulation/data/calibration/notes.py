"""What a log held beyond plain purchases, in words: printed by ``calibrate`` and shown in the report's appendix.

Kept apart from the fits (no scipy here) so the report's kernel can say it without loading them.
"""

from __future__ import annotations

from typing import Any, Mapping

LOSS_MAKING_WARNING = 0.8  # more than this share of the book losing money reads as a cost assumption gone wrong


def _counted(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def log_notes(counts: Mapping[str, Any]) -> list[str]:
    """Sentences from the log's counts: free days, refund days, refund-only customers, and who the spend model left out.

    ``counts`` holds ``free_purchase_days``, ``return_days``, ``refund_only_customers``, ``spend_model_customers``
    and ``left_out_of_spend_model`` (``free_repeat_purchases_only``, ``refunds_exceed_repeat_spend``), as
    ``calibration.json`` writes them; missing ones count as none.
    """
    left_out = counts.get("left_out_of_spend_model") or {}
    free_only, refunded = int(left_out.get("free_repeat_purchases_only", 0)), int(left_out.get("refunds_exceed_repeat_spend", 0))
    notes = []
    if counts.get("free_purchase_days"):
        notes.append(f"{_counted(counts['free_purchase_days'], 'purchase day adds', 'purchase days add')} up to zero "
                     "(free items): they count as purchases for BG/NBD.")
    if counts.get("return_days"):
        notes.append(f"{_counted(counts['return_days'], 'day adds', 'days add')} up to less than zero (refunds): not "
                     "purchases; netted against the customer's repeat spend.")
    if counts.get("refund_only_customers"):
        notes.append(f"{_counted(counts['refund_only_customers'], 'customer', 'customers')} with refunds and no "
                     "purchase left out.")
    if "spend_model_customers" in counts:
        notes.append(f"Gamma-Gamma is fitted on the {int(counts['spend_model_customers']):,} customers with repeat "
                     "purchases and a positive mean spend"
                     + (f"; {_counted(free_only + refunded, 'repeat buyer is', 'repeat buyers are')} left out of it "
                        f"({free_only:,} bought again only for free, {refunded:,} refunded more than they spent) and "
                        "keep their own mean spend, 0."
                        if free_only + refunded else "; no repeat buyer is left out."))
    return notes
