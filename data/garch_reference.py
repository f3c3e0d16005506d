"""Reference GARCH(1,1)-t estimates from the `arch` package (K. Sheppard,
https://github.com/bashtage/arch), version 8.0.0, on the shipped closes: the
values tests/calibration.rs holds clearstress's fit against.

    pip install --target /tmp/pyarch arch==8.0.0 && python3 data/garch_reference.py

Zero mean, GARCH(1,1), standardised Student-t, fitted on returns in percent
(omega converted back to decimal returns), classic (inverse information)
standard errors, log-likelihood of the decimal returns.
"""
import csv, math, sys
sys.path.insert(0, "/tmp/pyarch")
import numpy as np
from arch import arch_model
rows = list(csv.DictReader(open("data/daily_close_usd.csv")))
import datetime as dt
def returns(asset, start, end):
    out = []
    prev = None
    for r in rows:
        d = dt.date.fromisoformat(r["date"]); p = r[asset]
        if prev and p and prev[1] and (d - prev[0]).days == 1 and start <= r["date"] <= end:
            out.append(math.log(float(p) / float(prev[1])))
        prev = (d, p)
    return np.array(out)
for asset, start, end in [("BTC","2018-01-01","2024-12-31"),("BTC","2021-01-01","2024-12-31"),("ETH","2021-01-01","2024-12-31"),("SOL","2021-01-01","2024-12-31"),("XRP","2019-01-01","2022-12-31"),("LTC","2019-01-01","2022-12-31")]:
    r = returns(asset, start, end)
    m = arch_model(100 * r, mean="Zero", vol="GARCH", p=1, q=1, dist="t", rescale=False)
    res = m.fit(disp="off", cov_type="classic", options={"ftol": 1e-12, "maxiter": 2000})
    p, se = res.params, res.std_err
    print(asset, start, end, len(r), "omega", p["omega"] / 1e4, "alpha", p["alpha[1]"], "beta", p["beta[1]"], "nu", p["nu"],
          "se", se["omega"] / 1e4, se["alpha[1]"], se["beta[1]"], se["nu"], "ll", res.loglikelihood + len(r) * math.log(100))
