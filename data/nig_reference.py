#!/usr/bin/env python3
"""Reference values for src/calibrate/innovations.rs, from scipy.

Run from the repository root:  python3 data/nig_reference.py
(pip install scipy numpy; the values in the tests came from scipy 1.17.1,
numpy 2.x).

Prints:
- scipy.special.k1e(x) and kve(nu, x) at the points the Bessel tests use;
- norminvgauss(a, b, loc, scale).logpdf(x) at the density test's points;
- the maximum-likelihood fits (scipy's generic optimiser, started from the
  method-of-moments guess) of norminvgauss and t to BTC's daily log returns
  2023-01-01..2024-12-31 of data/daily_close_usd.csv, with their
  log-likelihoods: the Rust fit must reach at least these likelihoods.
"""
import csv
import math

import numpy as np
import scipy
from scipy import stats
from scipy.special import k1e, kve

print("scipy", scipy.__version__)
for x in [1e-6, 0.1, 1.0, 10.0, 1e4]:
    print(f"k1e({x!r}) = {k1e(x)!r}")
for nu, x in [(0.5, 1.0), (1.5, 2.0), (4.5, 3.0), (10.0, 0.7), (2.0, 50.0)]:
    print(f"kve({nu!r}, {x!r}) = {kve(nu, x)!r}")

a, b, loc, scale = 1.3, -0.4, 0.1, 0.8
for x in [-8.0, -1.0, 0.0, 0.5, 6.0]:
    print(f"nig logpdf({x!r}) = {stats.norminvgauss(a, b, loc, scale).logpdf(x)!r}")

rows = list(csv.DictReader(open("data/daily_close_usd.csv")))
closes = [(r["date"], float(r["BTC"])) for r in rows if r["BTC"]]
returns = [
    math.log(p1 / p0)
    for (d0, p0), (d1, p1) in zip(closes, closes[1:])
    if "2023-01-01" <= d1 <= "2024-12-31"
]
x = np.array(returns)
print("BTC returns", len(x))
params = stats.norminvgauss.fit(x)
print("nig fit (a, b, loc, scale)", params, "ll", stats.norminvgauss.logpdf(x, *params).sum())
params = stats.t.fit(x)
print("t fit (df, loc, scale)", params, "ll", stats.t.logpdf(x, *params).sum())
mu, sd = stats.norm.fit(x)
print("normal fit", (mu, sd), "ll", stats.norm.logpdf(x, mu, sd).sum())
