"""Simulated exception rates behind the claims in tests/backtest_coverage.rs
(methodology 12b, "Coverage on simulated histories"): a VaR 99% margin on the
EWMA variance (RiskMetrics, lambda 0.94, seeded with 30 returns), 1-day
horizon, Gaussian returns, exact quantile (no Monte Carlo error), many
independent histories.

- RiskMetrics' own model (IGARCH(1,1) without intercept): the rate is 1%;
- a constant true volatility: EWMA estimation noise lifts it to about 1.3%;
- volatility doubling once: about one exception more than the noise alone.

Run: python3 data/backtest_coverage_reference.py (numpy, scipy).
"""
import numpy as np
from scipy.stats import norm

Z = norm.ppf(0.99)
LAMBDA = 0.94
HISTORIES, WARM_UP, DAYS = 2000, 400, 1000


def exceptions(returns, doubled_from=None):
    """Exceptions per history over the tested days (long and short: both tails)."""
    v = np.mean(returns[:, :30] ** 2, axis=1)
    count = np.zeros(len(returns))
    for t in range(30, returns.shape[1] - 1):
        v = LAMBDA * v + (1 - LAMBDA) * returns[:, t] ** 2
        if t >= WARM_UP:
            count += np.abs(returns[:, t + 1]) > Z * np.sqrt(v)
    return count / 2  # per tail


rng = np.random.default_rng(13)
n = WARM_UP + DAYS + 1
# RiskMetrics' model: v_{t+1} = lambda v_t + (1 - lambda) r_t^2.
r = np.empty((HISTORIES, n))
v = np.full(HISTORIES, 0.03**2)
for t in range(n):
    r[:, t] = np.sqrt(v) * rng.standard_normal(HISTORIES)
    v = LAMBDA * v + (1 - LAMBDA) * r[:, t] ** 2
print(f"IGARCH: {exceptions(r).mean() / DAYS:.4%} of days")
constant = 0.02 * rng.standard_normal((HISTORIES, n))
noise = exceptions(constant).mean()
print(f"constant volatility: {noise / DAYS:.4%} of days")
doubled = constant.copy()
doubled[:, WARM_UP + DAYS // 2 + 1 :] *= 2
print(f"doubling halfway: {exceptions(doubled).mean() - noise:.2f} more exceptions in {DAYS} days")
