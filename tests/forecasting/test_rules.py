"""The choice rules of the calibrations, on constructed held-out errors."""

from __future__ import annotations

import numpy as np

from forecasting import rules


def _errors() -> np.ndarray:
    # [candidates, held-out days]: candidate 1 is best overall but noisy day to day;
    # candidate 0 (the simplest) is a little worse, within one standard error
    return np.array(
        [
            [10.0, 10.0, 10.0, 10.0],
            [4.0, 16.0, 5.0, 13.0],
            [12.0, 12.0, 12.0, 12.0],
        ]
    )


def test_least_error_takes_the_best_candidate() -> None:
    assert rules.least_error(_errors(), [0, 1, 2]) == 1
    assert rules.least_error(_errors(), [2, 0, 1]) == 1


def test_least_error_breaks_exact_ties_by_the_order() -> None:
    tied = np.zeros((3, 5))  # a queue without contacts: every setting scores 0
    assert rules.least_error(tied, [2, 0, 1]) == 2


def test_one_standard_error_keeps_the_simple_candidate_the_data_cannot_reject() -> None:
    assert rules.one_standard_error(_errors(), [0, 1, 2]) == 0
    # unless it is not allowed (the mix rule's "no worse than the better baseline")
    allowed = np.array([False, True, True])
    assert rules.one_standard_error(_errors(), [0, 1, 2], allowed) == 1


def test_an_extra_effect_must_beat_the_noise_of_its_gain() -> None:
    steady = np.array([10.0, 12.0, 9.0, 11.0, 10.0, 12.0])
    assert rules.clearly_better(steady - 1.0, steady)  # a day less error every day
    mixed = steady + np.array([-3.0, 2.5, -3.0, 2.5, -3.0, 2.5])  # less in sum, not clearly
    assert mixed.sum() < steady.sum()
    assert not rules.clearly_better(mixed, steady)
    assert not rules.clearly_better(steady + 1.0, steady)
    assert not rules.clearly_better(steady[:1] - 5.0, steady[:1])  # one day tells nothing
