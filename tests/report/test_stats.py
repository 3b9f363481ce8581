import math

import numpy as np
import pytest

from editbench.report import stats
from editbench.report.summary import combine, passes


def test_mean_std_count_conventions():
    assert stats.mean([]) is None
    assert stats.mean([1, 2, 3, 6]) == 3.0
    assert stats.std([5]) is None  # sample std needs two values
    assert stats.std([1, 2, 3, 6]) == pytest.approx(math.sqrt(14 / 3), rel=1e-15)


def test_bootstrap_is_deterministic_and_brackets_the_mean():
    rng = np.random.default_rng(123)
    values = rng.normal(6.0, 1.5, size=80)
    first = stats.bootstrap_ci(values)
    assert first == stats.bootstrap_ci(values)  # fixed seed: same report, same digits
    low, high = first
    assert low < values.mean() < high
    # ~ mean ± 1.96 · s/√n for a normal sample of 80
    half = 1.96 * values.std(ddof=1) / math.sqrt(values.size)
    assert (high - low) / 2 == pytest.approx(half, rel=0.1)
    assert stats.bootstrap_ci([4.0]) is None
    assert stats.bootstrap_ci([3.0, 3.0, 3.0]) == (3.0, 3.0)


def test_stratified_bootstrap_keeps_groups_apart():
    low, high = stats.stratified_bootstrap_ci([[1, 2, 3, 4], [7, 8, 9, 10]])
    assert low < 5.5 < high
    assert stats.stratified_bootstrap_ci([[1], []]) is None


def test_paired_permutation_exact_small_n():
    # every difference is +1: only "all +" and "all −" of the 2^3 sign patterns reach |mean| = 1
    assert stats.paired_permutation_test([0, 0, 0], [1, 1, 1]) == 2 / 8
    assert stats.paired_permutation_test([1, 2], [1, 2]) == 1.0
    assert stats.paired_permutation_test([], []) is None


def test_paired_permutation_large_n_detects_shift_and_not_noise():
    rng = np.random.default_rng(5)
    a = rng.normal(5, 1, 60)
    assert stats.paired_permutation_test(a, a + 0.8 + rng.normal(0, 0.3, 60)) == 1 / 10_001
    assert stats.paired_permutation_test(a, a + rng.normal(0, 0.3, 60)) > 0.05
    assert stats.paired_bootstrap_ci([1, 2, 3], [2, 3, 4]) == (1.0, 1.0)


def test_holm():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([None, 0.2]) == [None, 0.2]


def test_spearman_with_ties():
    assert stats.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert stats.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert stats.spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(4.5 / math.sqrt(22.5), rel=1e-12)
    assert stats.spearman([1, 1, 1], [1, 2, 3]) is None


def test_kendall_tau_b_by_hand_with_and_without_ties():
    # 6 pairs, one discordant (the 2/3 swap): (5 − 1) / 6.
    assert stats.kendall([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6, rel=1e-12)
    assert stats.kendall([1, 2, 3], [3, 2, 1]) == -1.0
    # x ties one pair: concordant 2, discordant 0; untied pairs 2 in x, 3 in y → 2 / sqrt(6).
    assert stats.kendall([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / math.sqrt(6), rel=1e-12)
    assert stats.kendall([5, 5, 5], [1, 2, 3]) is None
    assert stats.kendall([1], [2]) is None
    with pytest.raises(ValueError):
        stats.kendall([1, 2], [1])
    assert list(stats.rankdata([3, 1, 3, 2])) == [3.5, 1.0, 3.5, 2.0]


def test_overall_rules():
    assert combine("geometric_mean", {"sc": 7, "pq": 8}, {}) == math.sqrt(56)  # VIEScore, bit for bit
    assert combine("geometric_mean", {"sc": 0, "pq": 8}, {}) == 0.0
    assert combine("geometric_mean", {"a": 2, "b": 8}, {"a": 3, "b": 1}) == pytest.approx((2**3 * 8) ** 0.25)
    assert combine("weighted_mean", {"a": 4, "b": 8}, {"a": 3, "b": 1}) == 5.0
    assert combine("min", {"a": 4, "b": 8}, {}) == 4
    with pytest.raises(ValueError):
        combine("median", {"a": 1}, {})


def test_pass_rules():
    assert passes({"all_at_least": 8}, {"a": 8, "b": 9}, 8.5)
    assert not passes({"all_at_least": 8}, {"a": 7, "b": 10}, 8.4)
    assert passes({"overall_at_least": 6, "at_least": {"a": 5}}, {"a": 5, "b": 9}, 6.7)
