#!/usr/bin/env python3
"""Reference values for src/analysis/backtest/statistics.rs, from scipy: the
numbers tests/backtest_statistics.rs pins.

Run from the repository root:  python3 data/backtest_reference.py
(pip install scipy numpy; the values in the tests came from scipy 1.17.1,
numpy 2.4.6). Every line prints in the form the test's tables take, so a
changed value can be pasted back.

Prints:
- Kupiec's proportion-of-failures statistic
      LR_pof = -2 [ (n-x) ln(1-p) + x ln p - (n-x) ln(1-x/n) - x ln(x/n) ],
  0 ln 0 = 0 (scipy.special.xlogy), and its chi-square(1) p-value
  (scipy.stats.chi2.sf), with p = 1 - confidence; it is evaluated, as the
  Rust code does, as 2 [(n-x) ln((1-x/n)/(1-p)) + x ln((x/n)/p)] and checked
  against the form above;
- Christoffersen's independence statistic from the transition counts of an
  exception sequence (0 ln 0 = 0 again, so an empty row of the transition
  matrix contributes nothing), evaluated as the G statistic of the 2x2 table
  and checked against the ratio of likelihoods, with its chi-square(1)
  p-value, and the
  conditional-coverage statistic LR_pof + LR_ind with its chi-square(2)
  p-value;
- the binomial cumulative probabilities of the Basel table (250 days, 99%)
  and the traffic-light bounds (scipy.stats.binom.cdf) for several
  (days, confidence) pairs: green up to the largest count whose cumulative
  probability is below 0.95 (zero exceptions always green), red from the first
  count whose cumulative probability is at least 0.9999.
"""
import numpy as np
import scipy
from scipy.special import xlogy
from scipy.stats import binom, chi2

print("# scipy", scipy.__version__, "numpy", np.__version__)


def positive(lr):
    """A likelihood ratio is >= 0: rounding below 0 (or -0.0) prints as 0.0."""
    return float(lr) if lr > 0 else 0.0


def kupiec(n, x, confidence):
    """LR_pof as 2 [(n-x) ln((1-x/n)/(1-p)) + x ln((x/n)/p)], the same number as
    the textbook difference of log-likelihoods (asserted) without its
    cancellation when x/n is close to p."""
    p = 1.0 - confidence
    lr = 2.0 * (xlogy(n - x, (n - x) / (n * (1.0 - p))) + xlogy(x, x / (n * p)))
    ln_null = xlogy(n - x, 1.0 - p) + xlogy(x, p)
    ln_alt = xlogy(n - x, (n - x) / n) + xlogy(x, x / n)
    assert abs(lr + 2.0 * (ln_null - ln_alt)) < 1e-9
    return positive(lr)


print("# kupiec: (observations, exceptions, confidence, statistic, p_value)")
for n, conf, xs in [
    (250, 0.99, range(0, 13)),
    (500, 0.99, [0, 5, 10, 15]),
    (250, 0.975, [0, 3, 6, 12]),
    (1000, 0.999, [0, 1, 3, 8]),
    (10, 0.9, [0, 2, 10]),
    (1, 0.99, [0, 1]),
]:
    for x in xs:
        lr = kupiec(n, x, conf)
        print(f"({n}, {x}, {conf!r}, {lr!r}, {float(chi2.sf(lr, 1))!r}),")


def transitions(seq):
    n = [[0, 0], [0, 0]]
    for a, b in zip(seq, seq[1:]):
        n[a][b] += 1
    return n


def g_term(count, row, column, total):
    return xlogy(count, count * total / (row * column)) if count else 0.0


def christoffersen(seq, confidence):
    """LR_ind as the G statistic of the 2x2 table of transitions,
    2 sum_ij n_ij ln(n_ij N / (row_i column_j)), the same number as the
    textbook ratio of likelihoods (asserted); an empty row or column has only
    zero cells and contributes nothing."""
    (n00, n01), (n10, n11) = transitions(seq)
    total = n00 + n01 + n10 + n11
    rows, cols = (n00 + n01, n10 + n11), (n00 + n10, n01 + n11)
    ind = 2.0 * sum(g_term(c, rows[i], cols[j], total)
                    for (i, j), c in {(0, 0): n00, (0, 1): n01, (1, 0): n10, (1, 1): n11}.items())

    def term(a, b):
        return xlogy(a, a / b) if a else 0.0
    ln_null = term(n00 + n10, total) + term(n01 + n11, total)
    ln_alt = term(n00, n00 + n01) + term(n01, n00 + n01) + term(n10, n10 + n11) + term(n11, n10 + n11)
    assert abs(ind + 2.0 * (ln_null - ln_alt)) < 1e-9
    ind = positive(ind)
    cc = kupiec(len(seq), sum(seq), confidence) + ind
    return (n00, n01, n10, n11), ind, float(chi2.sf(ind, 1)), cc, float(chi2.sf(cc, 2))


def days(n, exceptions):
    return [1 if d in exceptions else 0 for d in range(n)]


print("# christoffersen: (name, transitions, ind, ind_p, cc, cc_p)")
for name, seq, conf in [
    ("hand-worked 10 days", days(10, {3, 4}), 0.9),
    ("clustered 250 days", days(250, {100, 101, 102, 103, 200}), 0.99),
    ("spread 250 days", days(250, {20, 70, 120, 170, 220}), 0.99),
    ("first day only", days(250, {0}), 0.99),
    ("last day only", days(250, {249}), 0.99),
    ("no exceptions", days(250, set()), 0.99),
    ("all but the last", days(20, set(range(19))), 0.99),
    ("all exceptions", days(20, set(range(20))), 0.99),
    ("one day", days(1, {0}), 0.99),
]:
    t, ind, ind_p, cc, cc_p = christoffersen(seq, conf)
    print(f'("{name}", {t}, {ind!r}, {ind_p!r}, {cc!r}, {cc_p!r}),')

print("# Basel table, 250 days at 99%: (exceptions, cumulative probability)")
for x in range(0, 11):
    print(f"({x}, {float(binom.cdf(x, 250, 0.01))!r}),")


def bounds(n, conf):
    p = 1.0 - conf
    green_max = 0
    while green_max < n and binom.cdf(green_max + 1, n, p) < 0.95:
        green_max += 1
    red_min = green_max + 1
    while binom.cdf(red_min, n, p) < 0.9999:
        red_min += 1
    return green_max, (red_min - 1 if red_min > green_max + 1 else None)


print("# traffic light: (observations, confidence, green_max, yellow_max)")
for n, conf in [(250, 0.99), (500, 0.99), (1000, 0.99), (250, 0.975), (250, 0.999),
                (750, 0.995), (10, 0.9), (5, 0.99), (1, 0.99)]:
    g, y = bounds(n, conf)
    print(f"({n}, {conf!r}, {g}, {'None' if y is None else f'Some({y})'}),")
