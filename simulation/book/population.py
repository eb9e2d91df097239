"""A customer population as columns of numpy arrays: the company's customers at the start.

What each customer brings in and costs to serve. Cost to serve = cost of goods + account
management + contacts × the channel's cost per contact + the carrying cost of late payment
(titus 2014; "What's the best way to manage unprofitable
customers?"; Goonan, Inforte); the engine computes it (``state.py``). Populations come from the
synthetic generator (``synthetic.py``) or a company's own data (``ingest.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class Population:
    """One row per customer; amounts are currency per month, contacts are per month."""

    customer_id: np.ndarray  # str or int identifiers, as in the source data
    revenue: np.ndarray
    cost_of_goods: np.ndarray
    account_management: np.ndarray
    contacts: np.ndarray
    channel: np.ndarray  # int16 index into channel_names
    days_late: np.ndarray
    growth: np.ndarray  # expected revenue growth, fraction per year (potential value)
    referrals_per_year: np.ndarray  # new customers referred per year (referral value)
    contract_end: np.ndarray  # int32, months from start at which the current contract ends
    channel_names: tuple[str, ...]
    # Each customer's own monthly churn probability, fitted from the company's data (calibration);
    # None: drawn from the scenario's churn beta, as for every newcomer.
    churn_probability: np.ndarray | None = None
    # Expected purchases a month while on the books, for customers from a transaction log; None otherwise.
    purchases_per_month: np.ndarray | None = None
    buying_probability: np.ndarray | None = None  # chance of at least one purchase in a month on the books: 1 − e^(−λ m)
    spend_shape: float | None = None  # Gamma-Gamma's p: each purchase's amount is Gamma(p, ν) around the customer's mean

    def __len__(self) -> int:
        return len(self.revenue)

    def for_replication(self, seed: int, replication: int) -> "Population":
        """Replication ``replication``'s book: a known population is the same in every replication.

        A book the data leave uncertain (``calibration.posterior``) draws its own in each replication.
        """
        return self

    def sample(self, rows: np.ndarray) -> "Population":
        """The book of the customers at ``rows`` only (a sample of a company's book, ``sample_weight``)."""
        return self.take(rows)

    def take(self, rows: np.ndarray) -> "Population":
        """The customers at ``rows`` (used to bootstrap new customers from the existing mix)."""
        values = {name: getattr(self, name).take(rows) for name in _COLUMN_NAMES}
        churn, purchases, buying = (None if getattr(self, name) is None else getattr(self, name).take(rows)
                                    for name in _OPTIONAL)
        return Population(**values, channel_names=self.channel_names, churn_probability=churn, purchases_per_month=purchases,
                          buying_probability=buying, spend_shape=self.spend_shape)


_OPTIONAL = ("churn_probability", "purchases_per_month", "buying_probability")
_SCALARS = ("spend_shape",)
_COLUMN_NAMES = tuple(f.name for f in fields(Population) if f.name not in ("channel_names", *_OPTIONAL, *_SCALARS))
