#!/usr/bin/env python3
"""Derive the sample market and the historical stress scenarios from data/.

Run from the repository root: python3 data/derive.py
Deterministic: same inputs, same bytes out. Standard library only.
Writes src/sample/market/{assets,correlation,implied_vol}.csv and
scenarios/historical/*.toml, scenarios/hypothetical/*.toml.
"""
import csv
import math
import os

ASSETS = ["BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOGE", "LTC", "USDT", "USDC"]
STABLE = {"USDT", "USDC"}
VALUATION = "2025-02-20"


def read_closes():
    rows = list(csv.DictReader(open("data/daily_close_usd.csv")))
    dates = [r["date"] for r in rows]
    closes = {a: [float(r[a]) if r[a] else None for r in rows] for a in ASSETS}
    return dates, closes


def log_returns(xs):
    return [math.log(b / a) if a and b else None for a, b in zip(xs, xs[1:])]


def ewma_vol(rets, lam=0.94):
    seed = rets[:30]
    var = sum(r * r for r in seed) / len(seed)
    for r in rets[30:]:
        var = lam * var + (1 - lam) * r * r
    return math.sqrt(var * 365)


def cholesky(m):
    n = len(m)
    l = [[0.0] * n for _ in range(n)]
    for j in range(n):
        p = m[j][j] - sum(l[j][k] ** 2 for k in range(j))
        if p <= 0:
            raise SystemExit(f"correlation not positive definite at {ASSETS[j]}")
        l[j][j] = math.sqrt(p)
        for i in range(j + 1, n):
            l[i][j] = (m[i][j] - sum(l[i][k] * l[j][k] for k in range(j))) / l[j][j]


def g(x):
    return f"{x:.6g}"


def main():
    dates, closes = read_closes()
    vi = dates.index(VALUATION)
    start3y = dates.index("2022-02-21")
    funding = {r["date"]: float(r["funding_rate_8h_mean"]) for r in csv.DictReader(open("data/btc_perp_funding_daily.csv"))}
    fdates = sorted(d for d in funding if d <= VALUATION)[-30:]
    btc_funding = sum(funding[d] for d in fdates) / len(fdates)
    os.makedirs("src/sample/market", exist_ok=True)
    out = ["asset,class,spot,volatility,funding_rate_8h,basis,synthetic,source"]
    vols = {}
    for a in ASSETS:
        xs = closes[a]
        last = max(i for i in range(vi + 1) if xs[i] is not None)
        rets = [r for r in log_returns(xs[start3y:last + 1]) if r is not None]
        vol = ewma_vol(rets)
        note = ""
        if a in STABLE and vol < 0.01:
            vol, note = 0.01, "; floored at 1%"
        vols[a] = vol
        f = 0.0 if a in STABLE else btc_funding
        proxy = "" if a in ("BTC",) or a in STABLE else " (BTC proxy)"
        src = (f"daily_close_usd.csv close {dates[last]}; EWMA(0.94) of log returns {dates[start3y]}..{dates[last]}{note}; "
               f"funding: btc_perp_funding_daily.csv 30d mean to {fdates[-1]}{proxy}; basis = funding x 3 x 365")
        out.append(f"{a},{'stablecoin' if a in STABLE else 'crypto'},{g(xs[last])},{g(vol)},{g(f)},{g(f * 3 * 365)},false,{src}")
    open("src/sample/market/assets.csv", "w").write("\n".join(out) + "\n")

    # Correlation: 365 daily log returns ending 2025-02-11, dates where all ten quote.
    end = dates.index("2025-02-11")
    idx = [i for i in range(1, end + 1) if all(closes[a][i] and closes[a][i - 1] for a in ASSETS)][-365:]
    r = {a: [math.log(closes[a][i] / closes[a][i - 1]) for i in idx] for a in ASSETS}
    def corr(x, y):
        mx, my = sum(x) / len(x), sum(y) / len(y)
        sxy = sum((p - mx) * (q - my) for p, q in zip(x, y))
        return sxy / math.sqrt(sum((p - mx) ** 2 for p in x) * sum((q - my) ** 2 for q in y))
    m = [[1.0 if i == j else round(corr(r[a], r[b]), 6) for j, b in enumerate(ASSETS)] for i, a in enumerate(ASSETS)]
    cholesky(m)
    lines = ["asset," + ",".join(ASSETS)] + [a + "," + ",".join(g(v) for v in row) for a, row in zip(ASSETS, m)]
    open("src/sample/market/correlation.csv", "w").write("\n".join(lines) + "\n")

    dvol = {row["date"]: float(row["btc_dvol"]) for row in csv.DictReader(open("data/btc_dvol_daily.csv"))}
    dday = max(d for d in dvol if d <= VALUATION)
    def rv(a, n):
        xs = [x for x in log_returns(closes[a][vi - n:vi + 1])]
        return math.sqrt(sum(x * x for x in xs) / len(xs) * 365)
    btc_atm = dvol[dday] / 100
    eth_atm = btc_atm * rv("ETH", 30) / rv("BTC", 30)
    iv = ["underlying,atm_vol,skew,curvature,term_slope,source",
          f"BTC,{g(btc_atm)},-0.1,0.35,-0.05,btc_dvol_daily.csv DVOL {dday}; assumed smile shape",
          f"ETH,{g(eth_atm)},-0.1,0.35,-0.05,BTC DVOL {dday} x ETH/BTC 30d realised vol (proxy: no ETH implied vol ships); assumed smile shape"]
    open("src/sample/market/implied_vol.csv", "w").write("\n".join(iv) + "\n")

    episodes(dates, closes, dvol)
    hypothetical()
    print("spots/vols:", {a: (closes[a][vi], round(vols[a], 3)) for a in ASSETS})
    print("BTC-ETH corr", m[0][1], "BTC funding", btc_funding, "ATM", btc_atm, eth_atm)


EPISODES = [
    ("2018-11-bch-hash-war", "2018-11 BCH hash-war capitulation", "Bitcoin Cash hash war and the capitulation of the 2018 bear market."),
    ("2020-03-12-black-thursday", "2020-03-12 Black Thursday", "COVID liquidity crash; BitMEX liquidation cascade, largest one-day BTC fall on record."),
    ("2021-05-19-china-ban", "2021-05-19 China mining ban crash", "China's crackdown on mining and trading; leveraged longs liquidated."),
    ("2022-05-luna-ust", "2022-05 LUNA/UST collapse", "The UST algorithmic stablecoin lost its peg and LUNA went to zero; USDT briefly depegged."),
    ("2022-06-celsius-3ac", "2022-06 Celsius freeze / Three Arrows", "Celsius froze withdrawals and Three Arrows Capital defaulted."),
    ("2022-11-ftx", "2022-11 FTX collapse", "FTX and Alameda failed; exchange-token and SOL sell-off."),
    ("2023-03-svb-usdc-depeg", "2023-03 SVB failure and USDC depeg", "Silicon Valley Bank held USDC reserves; USDC traded at 0.87 intraday."),
    ("2024-08-05-yen-carry", "2024-08-05 yen-carry unwind", "Global deleveraging as the yen carry trade unwound."),
]


def episodes(dates, closes, dvol):
    table = {row["episode"]: row for row in csv.DictReader(open("data/stress_episodes.csv"))}
    keys = list(table)
    matches = {"2018-11": "BCH", "2020-03": "Black", "2021-05": "China", "2022-05": "LUNA", "2022-06": "Celsius",
               "2022-11": "FTX", "2023-03": "SVB", "2024-08": "Yen"}
    for slug, name, desc in EPISODES:
        row = table[next(k for k in keys if matches[slug[:7]] in k)]
        w0, w1 = row["window"].split("..")
        i0, i1 = dates.index(w0), dates.index(w1)
        shocks = {}
        for a in ASSETS:
            xs = closes[a]
            if xs[i0 - 1] is None or any(x is None for x in xs[i0:i1 + 1]):
                continue
            if a in STABLE:
                shocks[a] = min(xs[i0:i1 + 1]) / xs[i0 - 1] - 1
            else:
                shocks[a] = xs[i1] / xs[i0 - 1] - 1
        if row.get("BTC_win"):
            assert abs(shocks["BTC"] - float(row["BTC_win"])) < 1e-3, (slug, shocks["BTC"], row["BTC_win"])
        pre = dates[i0 - 1]
        if pre in dvol:
            window_dvol = [dvol[d] for d in dates[i0:i1 + 1] if d in dvol]
            vshock = max(window_dvol) / dvol[pre] - 1
            vnote = f"BTC vol shock = max DVOL in window / DVOL {pre} - 1 (btc_dvol_daily.csv); ETH uses the same (proxy)"
        else:
            def rv(lo, hi):
                xs = [x for x in log_returns(closes["BTC"][lo:hi + 1]) if x is not None]
                return math.sqrt(sum(x * x for x in xs) / len(xs))
            vshock = min(0.5 * (rv(i1 - 10, i1) / rv(i0 - 31, i0 - 1) - 1), 1.5)
            vnote = ("no DVOL before 2022-11: BTC vol shock = half of (10-day realised vol to window end / 30-day realised vol "
                     "before the window - 1), capped at +150% (implied vol moves about half as much as realised in the "
                     "DVOL era: FTX 2022-11 DVOL +94% vs realised x2.9); ETH the same")
        alts = sorted(v for a, v in shocks.items() if a not in STABLE and a not in ("BTC", "ETH"))
        median = alts[len(alts) // 2] if alts else shocks["ETH"]
        lines = [f'name = "{name}"', 'kind = "historical"', f'description = "{desc}"',
                 f'source = "data/daily_close_usd.csv via data/derive.py: shock = close({w1}) / close({pre}) - 1 for crypto; '
                 f'stablecoins: minimum close in the window / close({pre}) - 1 (a depeg that recovers still hits margin). {vnote}. '
                 f'Unlisted crypto: median of the listed altcoin moves."',
                 f'window = "{pre} close .. {w1} close"', "", "[shocks]"]
        lines += [f"{a} = {v:.6f}" for a, v in shocks.items()]
        lines += ["", "[vol_shocks]", f"BTC = {vshock:.6f}", f"ETH = {vshock:.6f}", "", "[unlisted]",
                  f"crypto = {median:.6f}", "stablecoin = 0.0", f"vol = {vshock:.6f}", ""]
        open(f"scenarios/historical/{slug}.toml", "w").write("\n".join(lines))


HYPOTHETICAL = [
    ("crypto-crash-50", "Crypto crash -50%", "Every crypto asset halves while implied vols double.", {}, -0.5, {"*": 1.0}),
    ("crypto-rally-60", "Crypto rally +60%", "A short squeeze: every crypto asset rises 60%, implied vols +50%. Hurts short books.", {}, 0.6, {"*": 0.5}),
    ("usdt-depeg-15", "USDT depeg -15%", "Tether loses 15% of its peg; crypto falls 20% in sympathy, USDC gains as a haven.", {"USDT": -0.15, "USDC": 0.005}, -0.2, {"*": 0.6}),
    ("usdc-depeg-13", "USDC depeg -13%", "USDC at its 2023-03-11 intraday low (0.8774), crypto -5%.", {"USDC": -0.13, "USDT": 0.0}, -0.05, {"*": 0.3}),
    ("eth-decouples", "ETH decouples", "ETH -45% while BTC falls only 10%: hurts BTC-ETH spread books.", {"ETH": -0.45, "BTC": -0.10}, -0.35, {"*": 0.8}),
    ("vol-crush", "Vol crush", "Spot unchanged, implied vols -45%: hurts long option books.", {}, 0.0, {"*": -0.45}),
    ("vol-spike-flat", "Vol spike, spot flat", "Spot -5%, implied vols +150%: hurts short option books.", {}, -0.05, {"*": 1.5}),
]


def hypothetical():
    for slug, name, desc, named, crypto, vol in HYPOTHETICAL:
        lines = [f'name = "{name}"', 'kind = "hypothetical"', f'description = "{desc}"',
                 'source = "hypothetical: numbers chosen by the clearstress risk team to stress the named exposure; '
                 'severities at or beyond the worst historical episodes in data/stress_episodes.csv"', "", "[shocks]"]
        lines += [f"{a} = {v}" for a, v in named.items()]
        lines += ["", "[vol_shocks]", "", "[unlisted]", f"crypto = {crypto}", "stablecoin = 0.0", f"vol = {vol['*']}", ""]
        open(f"scenarios/hypothetical/{slug}.toml", "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
