"""Common random numbers: one named stream per mechanism, keyed by replication and month.

Every strategy of replication r draws from the same streams, so a difference between strategies
is the strategy and not noise. Per-customer draws are keyed by the customer's cohort (the
starting population, then each month's newcomers) and position in it, so the k-th newcomer of a
month gets the same luck in every strategy that wins at least k customers that month.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Sequence

import numpy as np

COHORT_SPACING = 1 << 40  # stream positions reserved per cohort: far more than any cohort's customers
POPULATION_STREAM = (0xC0FFEE,)  # spawn key of the stream the starting population is drawn from (not per replication)


class Stream(IntEnum):
    """Stream ids. Values are part of the results' identity: never renumber, only add."""

    LATENT_CHURN = 1  # each customer's own churn probability (sBG draw), starting population
    CHURN = 2  # who leaves this month
    ACQUISITION_COUNT = 3  # how many newcomers this month
    ACQUISITION_ROWS = 4  # which existing customers newcomers resemble
    ACQUISITION_LATENT = 5  # newcomers' own churn probabilities
    WORD_OF_MOUTH = 6  # how many people a wave reaches, and how many of them are our customers
    TRUST_TARGETS = 7  # which customers a wave reaches
    ACTIONS = 8  # success, acceptance and leaving draws of strategy actions
    BOOK = 9  # today's customers drawn from their posterior (a company's data): who is on the book, their rates
    PURCHASES = 10  # purchases of customers from a log this month: counts and amounts
    PRICE_WAR = 11  # which customers are price-sensitive (one draw per customer, the same every month)


class RandomStreams:
    """The generators of one replication: the same for every strategy that runs it."""

    def __init__(self, root_entropy: int, replication: int) -> None:
        self.root_entropy = root_entropy
        self.replication = replication

    def _bits(self, stream: Stream, key: int) -> np.random.PCG64:
        return np.random.PCG64(np.random.SeedSequence(self.root_entropy, spawn_key=(self.replication, int(stream), key)))

    def generator(self, stream: Stream, key: int) -> np.random.Generator:
        """The generator for one mechanism in one month (or one event ``key``) of this replication."""
        return np.random.Generator(self._bits(stream, key))

    def uniforms(self, stream: Stream, key: int, cohorts: Sequence[tuple[int, int, int]], size: int) -> np.ndarray:
        """One uniform per row, the same for the same customer in every strategy of the replication.

        ``cohorts`` lists (first row, end row, cohort number); cohort c's draws start at position
        c × 2^40 of the stream, so a cohort of another size in another strategy never shifts the
        draws of a later cohort.
        """
        bits = self._bits(stream, key)
        generator = np.random.Generator(bits)
        draws = np.empty(size)
        position = 0
        for start, stop, cohort in cohorts:
            offset = cohort * COHORT_SPACING
            bits.advance(offset - position)
            generator.random(stop - start, out=draws[start:stop])
            position = offset + (stop - start)
        return draws
