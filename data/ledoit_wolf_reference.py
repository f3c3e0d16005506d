"""Reference Ledoit-Wolf shrinkage from scikit-learn on the shipped closes:
the values tests/calibration.rs holds clearstress's estimator against.

    pip install --target /tmp/pysk scikit-learn==1.9.1 && \
        PYTHONPATH=/tmp/pysk python3 data/ledoit_wolf_reference.py

Daily log returns 2023-01-01..2024-12-31 (days on which all eight assets have
a return), standardised (population standard deviation), then
`sklearn.covariance.ledoit_wolf`: shrinkage intensity and the shrunk matrix.
"""
import csv, datetime as dt, math
import numpy as np
from sklearn.covariance import ledoit_wolf

ASSETS = ["BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOGE", "LTC"]
rows = list(csv.DictReader(open("data/daily_close_usd.csv")))
out = []
for prev, cur in zip(rows, rows[1:]):
    d0, d1 = dt.date.fromisoformat(prev["date"]), dt.date.fromisoformat(cur["date"])
    if (d1 - d0).days != 1 or not ("2023-01-01" <= cur["date"] <= "2024-12-31"):
        continue
    if all(prev[a] and cur[a] for a in ASSETS):
        out.append([math.log(float(cur[a]) / float(prev[a])) for a in ASSETS])
x = np.array(out)
x = (x - x.mean(axis=0)) / x.std(axis=0)
cov, shrinkage = ledoit_wolf(x)
print(len(out), repr(shrinkage))
print(repr(cov[0, 1]), repr(cov[2, 6]), repr(cov[3, 7]))
print(repr(np.corrcoef(np.array(out).T)[0, 1]))
