#!/usr/bin/env python3
"""Derive clearstress's sample market and stress scenarios from the history in data/.

Run from the repository root:  python3 data/derive.py

Reads only data/ (provenance in data/SOURCES.md) and writes
  src/sample/market/assets.csv        spots, EWMA vols, funding, basis, ADV on 2025-02-20
  src/sample/market/correlation.csv   365-day Pearson correlation of daily log returns
  src/sample/market/implied_vol.csv   ATM implied vol level and smile parameters
  scenarios/historical/*.toml         eight historical stress episodes
  scenarios/hypothetical/*.toml       seven hypothetical stress scenarios
  scenarios/README.md                 the format, the method and a table of every scenario
  data/implied_vol_index.csv          BTC DVOL under the asset id, for `backtest --implied-vol`

Python 3.11 standard library only. Deterministic: the same data gives the same
bytes (every number is written with a fixed format, files with '\\n' endings).
It fails loudly (AssertionError / SystemExit) if the data disagree with
data/stress_episodes.csv, if the correlation matrix is not positive definite, or
if an expected date is missing.
"""

import csv
import datetime as dt
import math
import os
import statistics
import sys

ASSETS = ["BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOGE", "LTC", "USDT", "USDC"]
STABLE = ("USDT", "USDC")
CRYPTO = [a for a in ASSETS if a not in STABLE]
ALTS = [a for a in CRYPTO if a not in ("BTC", "ETH")]
OPTION_UNDERLYINGS = ("BTC", "ETH")

VALUATION = "2025-02-20"        # the last day with every crypto close
CORR_END = "2025-02-11"         # the last day with all ten closes (stablecoin files end here)
CORR_RETURNS = 365
EWMA_LAMBDA = 0.94              # RiskMetrics daily decay
EWMA_SEED_RETURNS = 30
EWMA_YEARS = 3
ANNUALISE = 365                 # crypto trades every day
STABLE_VOL_FLOOR = 0.01
FUNDING_DAYS = 30
ADV_DAYS = 90                   # average daily traded value: mean of the 90 daily volumes to the spot's date
ADV_DIGITS = 3                  # significant digits: a depth, not a price
RV_DAYS_ETH_ATM = 30
SMILE = {"skew": -0.10, "curvature": 0.35, "term_slope": -0.05}
# Pre-DVOL vol shocks: implied vol moves less than realised vol. The script measures
# the elasticity e = ln(1 + DVOL move) / ln(1 + realised-vol move) on the episodes that
# have DVOL and applies (realised ratio)^e - 1 to the earlier ones (see implied_elasticity).
RV_SHORT, RV_LONG = 10, 30
CHECK_TOL = 1e-3

ROOT = os.getcwd()
DATA = os.path.join(ROOT, "data")
MARKET_DIR = os.path.join(ROOT, "src", "sample", "market")
SCEN_DIR = os.path.join(ROOT, "scenarios")

# Historical episodes: file slug, name, the `episode` row of stress_episodes.csv, description.
EPISODES = [
    ("2018-11-bch-hash-war", "2018-11 BCH hash-war capitulation", "BCH hash-war capitulation",
     "The Bitcoin Cash hash war (the BCH/BSV split of 2018-11-15) broke the 2018 bear market's floor: "
     "BTC fell from 6,360 to 3,880 USD in eleven days as miners and funds sold."),
    ("2020-03-12-black-thursday", "2020-03-12 Black Thursday", "Black Thursday (COVID)",
     "The COVID liquidity crash: BTC lost over a third of its value in one day, BitMEX liquidation "
     "cascades emptied order books, and USDT traded at a premium as traders fled to stablecoins."),
    ("2021-05-19-china-ban", "2021-05-19 China ban crash", "China mining ban / May-21 crash",
     "China's warnings on crypto trading and the mining crackdown, after Tesla stopped taking BTC, "
     "liquidated leveraged longs: altcoins fell harder than BTC over twelve days."),
    ("2022-05-luna-ust", "2022-05 LUNA/UST collapse", "LUNA/UST collapse",
     "The UST algorithmic stablecoin lost its peg and LUNA went to zero within days; USDT "
     "briefly traded at 0.95 and the whole market sold off."),
    ("2022-06-celsius-3ac", "2022-06 Celsius freeze and Three Arrows", "Celsius freeze / 3AC",
     "Celsius froze withdrawals on 2022-06-12 and Three Arrows Capital failed margin calls: "
     "BTC closed below its 2017 high and ETH lost 44% in nine days."),
    ("2022-11-ftx", "2022-11 FTX collapse", "FTX collapse",
     "FTX halted withdrawals and Alameda's collapse became public; SOL, tied to both, "
     "fell by half in two days and BTC implied vol nearly doubled."),
    ("2023-03-svb-usdc-depeg", "2023-03 SVB failure and USDC depeg", "SVB / USDC depeg",
     "Silicon Valley Bank, which held 3.3bn USD of USDC's reserves, failed on 2023-03-10; USDC "
     "traded at 0.877 intraday on 2023-03-11 and recovered once US deposits were guaranteed."),
    ("2024-08-05-yen-carry", "2024-08-05 yen-carry unwind", "Yen-carry unwind",
     "A Bank of Japan hike and weak US data unwound the yen carry trade: the Nikkei fell 12% "
     "on 2024-08-05 and crypto, traded over the weekend, fell first."),
]

# Hypothetical scenarios: slug, name, description, price shocks per listed asset,
# vol shocks per underlying, unlisted {crypto, stablecoin, vol}, rationale.
# Stablecoin prices are unchanged unless named.
def _all_crypto(x):
    return {a: x for a in CRYPTO}


HYPOTHETICAL = [
    ("crypto-crash-50", "Crypto crash -50%",
     "Every crypto asset halves at once and implied vols double: beyond the worst historical "
     "episode (BTC -39% and ETH -49% in the shipped ones) to stress long books and the default fund.",
     {**_all_crypto(-0.50), "USDT": 0.0, "USDC": 0.0}, {"BTC": 1.0, "ETH": 1.0},
     {"crypto": -0.50, "stablecoin": 0.0, "vol": 1.0},
     "crypto -50% is about 1.3x the worst BTC shock of the historical scenarios ({worst_btc}) and about "
     "the worst ETH one ({worst_eth}); vol +100% is the FTX DVOL jump ({ftx_dvol}) rounded up"),
    ("crypto-rally-60", "Crypto rally +60%",
     "A short squeeze: every crypto asset rises 60% and implied vols rise 50%. Hurts short books "
     "and short calls, which the crash scenarios never stress.",
     {**_all_crypto(0.60), "USDT": 0.0, "USDC": 0.0}, {"BTC": 0.5, "ETH": 0.5},
     {"crypto": 0.60, "stablecoin": 0.0, "vol": 0.5},
     "+60% is below BTC's largest 10-day rise in daily_close_usd.csv ({btc_rally10}) and in log terms "
     "(ln 1.6 = 0.47) about two thirds of the -50% crash (ln 0.5 = -0.69); vol +50% because implied vol "
     "rises less in rallies than in crashes"),
    ("usdt-depeg-15", "USDT depeg -15%",
     "Tether loses 15% of its peg on a reserve scare; crypto falls 20% as USDT-margined positions "
     "are cut, USDC gains as the haven, other stablecoins lose 3%.",
     {**_all_crypto(-0.20), "USDT": -0.15, "USDC": 0.005}, {"BTC": 0.6, "ETH": 0.6},
     {"crypto": -0.20, "stablecoin": -0.03, "vol": 0.6},
     "USDT's lowest daily low since 2019 in ohlcv/USDT-USD_1d.csv is {usdt_low}; -15% is about three times that. Vol +60% sits "
     "between the DVOL moves of the yen-carry ({yen_dvol}) and FTX ({ftx_dvol}) episodes; other "
     "stablecoins -3% is USDC's 2023-03-11 close ({usdc_close})"),
    ("usdc-depeg-13", "USDC depeg -13%",
     "USDC at its 2023-03-11 intraday low, rounded: a reserve bank fails over a weekend; crypto "
     "dips 5%, USDT holds its peg, other stablecoins lose 3%.",
     {**_all_crypto(-0.05), "USDT": 0.0, "USDC": -0.13}, {"BTC": 0.25, "ETH": 0.25},
     {"crypto": -0.05, "stablecoin": -0.03, "vol": 0.25},
     "USDC's lowest low in ohlcv/USDC-USD_1d.csv is {usdc_low}; vol +25% is the SVB-window DVOL "
     "move ({svb_dvol}); other stablecoins -3% is USDC's 2023-03-11 close ({usdc_close})"),
    ("eth-decouples", "ETH decouples from BTC",
     "ETH falls 45% while BTC falls only 10% and other altcoins 35% (an ETH-specific failure): "
     "hurts books long ETH against short BTC that the correlated crashes leave hedged.",
     {"BTC": -0.10, "ETH": -0.45, **{a: -0.35 for a in ALTS}, "USDT": 0.0, "USDC": 0.0},
     {"BTC": 0.2, "ETH": 0.8}, {"crypto": -0.35, "stablecoin": 0.0, "vol": 0.5},
     "ETH -45% is ETH's move in the Celsius episode ({eth_celsius}) with BTC's held to -10%; the "
     "ETH-minus-BTC log-return gap ln(0.55/0.90) = -0.49 is about twice the largest 10-day gap since 2019 in "
     "daily_close_usd.csv, {eth_gap}"),
    ("vol-crush", "Vol crush -45%",
     "Spot unchanged while every implied vol falls 45% (a post-event collapse of option premia): "
     "hurts long option books.",
     {a: 0.0 for a in ASSETS}, {"BTC": -0.45, "ETH": -0.45},
     {"crypto": 0.0, "stablecoin": 0.0, "vol": -0.45},
     "the largest 30-day fall of BTC DVOL in btc_dvol_daily.csv is {dvol_fall30}, after FTX; -45% is "
     "just inside it"),
    ("vol-spike-flat", "Vol spike +150%, spot -5%",
     "Implied vols rise 150% while spot falls only 5%: hurts short option books without the "
     "large spot move that would show up in the linear scenarios.",
     {**_all_crypto(-0.05), "USDT": 0.0, "USDC": 0.0}, {"BTC": 1.5, "ETH": 1.5},
     {"crypto": -0.05, "stablecoin": 0.0, "vol": 1.5},
     "+150% takes BTC's 2025-02-20 DVOL ({dvol_val}) to {dvol_spiked}, just above the highest DVOL in "
     "btc_dvol_daily.csv ({dvol_max}, FTX); the largest 30-day rise of DVOL there is {dvol_rise30}"),
]


# ----------------------------------------------------------------------------- helpers

def fail(msg):
    sys.exit(f"derive.py: {msg}")


def fnum(x, sig=6):
    """x to `sig` significant digits, positional (no exponent), always with a '.'."""
    if x == 0:
        return "0.0"
    if not math.isfinite(x):
        fail(f"non-finite number {x}")
    decimals = max(sig - 1 - math.floor(math.log10(abs(x))), 1)
    s = f"{round(x, decimals):.{decimals}f}"
    if "." in s:
        s = s.rstrip("0")
        if s.endswith("."):
            s += "0"
    if s in ("-0.0",):
        s = "0.0"
    return s


def fdec(x, decimals=6):
    """x to a fixed number of decimals (used for shocks in the TOML files)."""
    s = f"{x:.{decimals}f}"
    return "0.000000"[: decimals + 2] if s.startswith("-") and float(s) == 0 else s


def pct(x, decimals=1):
    return f"{x * 100:+.{decimals}f}%"


def toml_str(s):
    if any(c in s for c in '"\\\n'):
        fail(f"string not allowed in a basic TOML string: {s!r}")
    return f'"{s}"'


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_csv(path, header, rows):
    for row in rows:
        for cell in row:
            if "," in cell or '"' in cell or "\n" in cell:
                fail(f"{path}: cell needs quoting: {cell!r}")
    write(path, "\n".join(",".join(r) for r in [header] + rows) + "\n")


def day(s):
    return dt.date.fromisoformat(s)


def rms(xs):
    return math.sqrt(sum(x * x for x in xs) / len(xs))


# ----------------------------------------------------------------------------- inputs

def read_closes():
    with open(os.path.join(DATA, "daily_close_usd.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if list(rows[0].keys()) != ["date"] + ASSETS:
        fail("daily_close_usd.csv: unexpected header")
    dates = [r["date"] for r in rows]
    for a, b in zip(dates, dates[1:]):
        if (day(b) - day(a)).days != 1:
            fail(f"daily_close_usd.csv: gap between {a} and {b}")
    closes = {a: [float(r[a]) if r[a] else None for r in rows] for a in ASSETS}
    for a in ASSETS:
        xs = closes[a]
        first = next(i for i, x in enumerate(xs) if x is not None)
        last = max(i for i, x in enumerate(xs) if x is not None)
        if any(x is None or x <= 0 for x in xs[first:last + 1]):
            fail(f"daily_close_usd.csv: gap or non-positive close inside {a}")
    return dates, closes


def read_ohlcv(asset):
    """{date: {open, high, low, close, volume}}; the stablecoin files use Date,Close,High,Low,Open,Volume.
    Yahoo's volume for a -USD pair is the day's traded value in USD, not in coins (BTC's 2025-02-20
    volume, 2.89e10, would be 1,460 times the 19.8 million coins in existence)."""
    with open(os.path.join(DATA, "ohlcv", f"{asset}-USD_1d.csv"), newline="") as f:
        out = {}
        for r in csv.DictReader(f):
            r = {k.lower(): v for k, v in r.items()}
            out[r.get("datetime") or r["date"]] = {
                k: float(r[k]) for k in ("open", "high", "low", "close", "volume")}
    return out


def read_series(name, column):
    with open(os.path.join(DATA, name), newline="") as f:
        return {r["date"]: float(r[column]) for r in csv.DictReader(f)}


def derive_implied_vol_index():
    """btc_dvol_daily.csv under the header `date,BTC` (the asset id
    `backtest --implied-vol` matches columns by), each level copied as text."""
    with open(os.path.join(DATA, "btc_dvol_daily.csv"), newline="") as f:
        rows = [[r["date"], r["btc_dvol"]] for r in csv.DictReader(f)]
    write_csv(os.path.join(DATA, "implied_vol_index.csv"), ["date", "BTC"], rows)
    return len(rows)


def read_episodes():
    with open(os.path.join(DATA, "stress_episodes.csv"), newline="") as f:
        return {r["episode"]: r for r in csv.DictReader(f)}


class Market:
    def __init__(self):
        self.dates, self.closes = read_closes()
        self.index = {d: i for i, d in enumerate(self.dates)}
        self.ohlcv = {a: read_ohlcv(a) for a in ASSETS}
        self.funding = read_series("btc_perp_funding_daily.csv", "funding_rate_8h_mean")
        self.dvol = read_series("btc_dvol_daily.csv", "btc_dvol")
        self.episodes = read_episodes()

    def i(self, date):
        if date not in self.index:
            fail(f"date {date} not in daily_close_usd.csv")
        return self.index[date]

    def close(self, a, date):
        return self.closes[a][self.i(date)]

    def last_close_index(self, a, upto):
        xs = self.closes[a]
        return max(i for i in range(self.i(upto) + 1) if xs[i] is not None)

    def log_returns(self, a, lo, hi):
        """Log returns dated by index lo..hi inclusive (return i = ln(c[i]/c[i-1]))."""
        xs = self.closes[a]
        out = []
        for i in range(lo, hi + 1):
            if xs[i] is None or xs[i - 1] is None:
                fail(f"{a}: no close for a return on {self.dates[i]}")
            out.append(math.log(xs[i] / xs[i - 1]))
        return out

    def realised(self, a, end_i, n):
        """Zero-mean realised vol (daily, not annualised) of the n returns ending at index end_i."""
        return rms(self.log_returns(a, end_i - n + 1, end_i))


# ----------------------------------------------------------------------------- sample market

def ewma_vol(rets):
    seed = rets[:EWMA_SEED_RETURNS]
    # Zero mean, divided by n: the recursion's own convention (and the EWMA
    # correlation's seed in src/calibrate/dependence.rs).
    var = sum(r * r for r in seed) / len(seed)
    for r in rets[EWMA_SEED_RETURNS:]:
        var = EWMA_LAMBDA * var + (1 - EWMA_LAMBDA) * r * r
    return math.sqrt(var * ANNUALISE)


def three_years_before(date):
    d = day(date)
    return (d.replace(year=d.year - EWMA_YEARS) + dt.timedelta(days=1)).isoformat()


def average_daily_value(m, a, last):
    """Mean of the ADV_DAYS daily USD volumes ending on `last` (the asset's spot date), and the window."""
    d1 = day(last)
    days = [(d1 - dt.timedelta(days=k)).isoformat() for k in range(ADV_DAYS - 1, -1, -1)]
    missing = [d for d in days if d not in m.ohlcv[a] or m.ohlcv[a][d]["volume"] <= 0]
    if missing:
        fail(f"{a}: no positive volume on {missing[0]} (ADV window {days[0]}..{days[-1]})")
    return sum(m.ohlcv[a][d]["volume"] for d in days) / ADV_DAYS, f"{days[0]}..{days[-1]}"


def derive_assets(m):
    vi = m.i(VALUATION)
    fdates = [d for d in sorted(m.funding) if d <= VALUATION][-FUNDING_DAYS:]
    if fdates[-1] != VALUATION or (day(fdates[-1]) - day(fdates[0])).days != FUNDING_DAYS - 1:
        fail(f"funding: expected {FUNDING_DAYS} consecutive days ending {VALUATION}")
    btc_funding = sum(m.funding[d] for d in fdates) / len(fdates)

    rows, out = [], {}
    for a in ASSETS:
        li = m.last_close_index(a, VALUATION)
        last = m.dates[li]
        if a not in STABLE and last != VALUATION:
            fail(f"{a}: no close on {VALUATION}")
        start = three_years_before(last)
        rets = m.log_returns(a, m.i(start), li)
        vol = ewma_vol(rets)
        raw_vol = vol
        stable = a in STABLE
        floor_note = ""
        if stable:
            if vol < STABLE_VOL_FLOOR:
                floor_note = f"; EWMA {fnum(raw_vol, 3)} floored at {fnum(STABLE_VOL_FLOOR)}"
                vol = STABLE_VOL_FLOOR
            else:
                floor_note = f"; floor {fnum(STABLE_VOL_FLOOR)} not binding"
        funding = 0.0 if stable else btc_funding
        basis = funding * 3 * 365
        method = (f"EWMA({EWMA_LAMBDA}) of {len(rets)} daily log returns {start}..{last} seeded with the "
                  f"mean square of the first {EWMA_SEED_RETURNS}; x sqrt({ANNUALISE})")
        if stable:
            src = (f"daily_close_usd.csv close {last} (last stablecoin close); {method}{floor_note}; "
                   f"funding and basis 0 (stablecoin)")
        else:
            proxy = "" if a == "BTC" else " (BTC proxy: no funding data for this asset ships)"
            src = (f"daily_close_usd.csv close {last}; {method}; funding: btc_perp_funding_daily.csv "
                   f"mean of funding_rate_8h_mean {fdates[0]}..{fdates[-1]}{proxy}; basis = funding x 3 x 365")
        adv, adv_window = average_daily_value(m, a, last)
        src += (f"; adv_usd: ohlcv/{a}-USD_1d.csv mean of {ADV_DAYS} daily USD volumes {adv_window} "
                f"to {ADV_DIGITS} significant digits")
        cls = "stablecoin" if stable else "crypto"
        spot = m.closes[a][li]
        rows.append([a, cls, fnum(spot), fnum(vol), fnum(funding), fnum(basis), fnum(float(f"{adv:.{ADV_DIGITS}g}")), "false", src])
        out[a] = dict(spot=spot, spot_date=last, vol=vol, raw_vol=raw_vol, funding=funding, basis=basis,
                      adv=adv, window=f"{start}..{last}", n=len(rets))
    write_csv(os.path.join(MARKET_DIR, "assets.csv"),
              ["asset", "class", "spot", "volatility", "funding_rate_8h", "basis", "adv_usd", "synthetic",
               "source"], rows)
    return out, btc_funding, fdates


def pearson(x, y):
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((p - mx) * (q - my) for p, q in zip(x, y))
    sxx = sum((p - mx) ** 2 for p in x)
    syy = sum((q - my) ** 2 for q in y)
    return sxy / math.sqrt(sxx * syy)


def cholesky(mat, names):
    n = len(mat)
    low = [[0.0] * n for _ in range(n)]
    for j in range(n):
        p = mat[j][j] - sum(low[j][k] ** 2 for k in range(j))
        if p <= 1e-12:
            fail(f"correlation matrix is not positive definite (pivot {p:.3e} at {names[j]})")
        low[j][j] = math.sqrt(p)
        for i in range(j + 1, n):
            low[i][j] = (mat[i][j] - sum(low[i][k] * low[j][k] for k in range(j))) / low[j][j]
    return min(low[j][j] ** 2 for j in range(n))


def derive_correlation(m):
    end = m.i(CORR_END)
    idx = [i for i in range(1, end + 1)
           if all(m.closes[a][i] is not None and m.closes[a][i - 1] is not None for a in ASSETS)]
    idx = idx[-CORR_RETURNS:]
    if len(idx) != CORR_RETURNS:
        fail("not enough common returns for the correlation")
    rets = {a: [math.log(m.closes[a][i] / m.closes[a][i - 1]) for i in idx] for a in ASSETS}
    n = len(ASSETS)
    mat = [[1.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            c = float(fnum(pearson(rets[ASSETS[i]], rets[ASSETS[j]])))
            mat[i][j] = mat[j][i] = c
    # the matrix as written (the rounded strings), checked as the Rust side will read it
    text = [[1.0 if i == j else float(fnum(mat[i][j])) for j in range(n)] for i in range(n)]
    assert all(text[i][j] == text[j][i] for i in range(n) for j in range(n))
    min_pivot = cholesky(text, ASSETS)
    rows = [[a] + [fnum(text[i][j]) for j in range(n)] for i, a in enumerate(ASSETS)]
    write_csv(os.path.join(MARKET_DIR, "correlation.csv"), ["asset"] + ASSETS, rows)
    return text, m.dates[idx[0]], m.dates[idx[-1]], min_pivot


def derive_implied_vol(m):
    dday = max(d for d in m.dvol if d <= VALUATION)
    note = "" if dday == VALUATION else f" (closest earlier day: {VALUATION} missing)"
    btc_atm = m.dvol[dday] / 100
    vi = m.i(VALUATION)
    rv_btc = m.realised("BTC", vi, RV_DAYS_ETH_ATM)
    rv_eth = m.realised("ETH", vi, RV_DAYS_ETH_ATM)
    eth_atm = btc_atm * rv_eth / rv_btc
    shape = "; ".join(f"{k} {fnum(v)}" for k, v in SMILE.items())
    first = m.dates[vi - RV_DAYS_ETH_ATM + 1]
    rows = [
        ["BTC", fnum(btc_atm), fnum(SMILE["skew"]), fnum(SMILE["curvature"]), fnum(SMILE["term_slope"]),
         f"btc_dvol_daily.csv Deribit DVOL {fnum(m.dvol[dday])} on {dday}{note} / 100; "
         f"assumed smile shape ({shape} per year)"],
        ["ETH", fnum(eth_atm), fnum(SMILE["skew"]), fnum(SMILE["curvature"]), fnum(SMILE["term_slope"]),
         f"proxy (no ETH implied-vol data ships): BTC DVOL {dday} x ETH/BTC {RV_DAYS_ETH_ATM}-day realised vol "
         f"{first}..{VALUATION} ({fnum(rv_eth * math.sqrt(ANNUALISE), 4)} / {fnum(rv_btc * math.sqrt(ANNUALISE), 4)}) "
         f"from daily_close_usd.csv; assumed smile shape ({shape} per year)"],
    ]
    write_csv(os.path.join(MARKET_DIR, "implied_vol.csv"),
              ["underlying", "atm_vol", "skew", "curvature", "term_slope", "source"], rows)
    return dict(btc=btc_atm, eth=eth_atm, dvol_day=dday,
                rv_btc=rv_btc * math.sqrt(ANNUALISE), rv_eth=rv_eth * math.sqrt(ANNUALISE))


# ----------------------------------------------------------------------------- historical scenarios

def check(label, mine, theirs, tol=CHECK_TOL):
    if theirs == "":
        return 0
    t = float(theirs)
    if abs(mine - t) > tol:
        raise AssertionError(f"{label}: derive.py {mine:.6f} vs stress_episodes.csv {t:.6f}")
    return 1


def median(xs):
    return statistics.median(xs)


def episode_window(m, row_name):
    row = m.episodes.get(row_name)
    if row is None:
        fail(f"stress_episodes.csv has no episode {row_name!r}")
    w0, w1 = row["window"].split("..")
    return row, w0, w1, m.i(w0), m.i(w1)


def realised_ratio(m, a, i0, i1):
    """10-day realised vol to the window end over 30-day realised vol before the window."""
    return m.realised(a, i1, RV_SHORT) / m.realised(a, i0 - 1, RV_LONG)


def dvol_move(m, i0, i1):
    """(max DVOL in the window, its day), DVOL the day before; None before DVOL starts."""
    pre = m.dates[i0 - 1]
    if pre not in m.dvol:
        return None
    dmax, dmax_day = max((m.dvol[d], d) for d in m.dates[i0:i1 + 1] if d in m.dvol)
    return dmax, dmax_day, m.dvol[pre]


def implied_elasticity(m):
    """Mean of ln(1 + BTC DVOL move) / ln(1 + BTC realised-vol move) over the DVOL-era episodes.

    Implied vol is a forecast over the option's life, so it moves by a fraction of the
    short-window realised vol; the elasticity in log space keeps a scaled shock above -100%.
    """
    ratios = []
    for _, _, row_name, _ in EPISODES:
        _, _, _, i0, i1 = episode_window(m, row_name)
        d = dvol_move(m, i0, i1)
        if d is not None:
            ratios.append(math.log(d[0] / d[2]) / math.log(realised_ratio(m, "BTC", i0, i1)))
    if len(ratios) < 2:
        fail("fewer than two DVOL-era episodes to measure the implied/realised vol elasticity")
    return statistics.mean(ratios), len(ratios)


def derive_episode(m, elasticity, slug, name, row_name, desc):
    row, w0, w1, i0, i1 = episode_window(m, row_name)
    pre = m.dates[i0 - 1]
    win = m.dates[i0:i1 + 1]
    btc = m.closes["BTC"]
    trough_i = min(range(i0, i1 + 1), key=lambda i: btc[i])   # the market's worst close: BTC's lowest
    trough = m.dates[trough_i]
    ki = m.i(row["key_day"])

    shocks, stats, checks = {}, {}, 0
    for a in ASSETS:
        xs = m.closes[a]
        if xs[i0 - 1] is None or any(x is None for x in xs[i0:i1 + 1]):
            continue                                   # no data in the window (SOL before 2020-04-10)
        p = xs[i0 - 1]
        win_move = xs[i1] / p - 1
        a_trough_i = min(range(i0, i1 + 1), key=lambda i: xs[i])
        a_trough = xs[a_trough_i] / p - 1
        worst1d = min(xs[i] / xs[i - 1] - 1 for i in range(i0, i1 + 1))
        low = min(m.ohlcv[a][d]["low"] for d in win) / p - 1
        stats[a] = dict(win=win_move, trough=a_trough, worst1d=worst1d, low=low)
        if a in STABLE:
            shocks[a] = a_trough                      # min close in the window / prior close - 1
        else:
            shocks[a] = xs[trough_i] / p - 1          # everyone's close on the market trough day
        # cross-checks against stress_episodes.csv where the definitions match
        if f"{a}_win" in row:
            checks += check(f"{slug} {a}_1d", xs[ki] / xs[ki - 1] - 1, row[f"{a}_1d"])
            checks += check(f"{slug} {a}_win", win_move, row[f"{a}_win"])
            checks += check(f"{slug} {a}_worst1d_in_win", worst1d, row[f"{a}_worst1d_in_win"])
            checks += check(f"{slug} {a}_trough_close_vs_preclose", a_trough, row[f"{a}_trough_close_vs_preclose"])
            checks += check(f"{slug} {a}_intraday_low_vs_preclose", low, row[f"{a}_intraday_low_vs_preclose"])
            if row[f"{a}_trough_date"] and row[f"{a}_trough_date"] != m.dates[a_trough_i]:
                raise AssertionError(f"{slug} {a}_trough_date {row[f'{a}_trough_date']} vs {m.dates[a_trough_i]}")
        if a in STABLE:
            checks += check(f"{slug} {a}_min_close", min(xs[i0:i1 + 1]), row[f"{a}_min_close"])
            checks += check(f"{slug} {a}_min_low", min(m.ohlcv[a][d]["low"] for d in win), row[f"{a}_min_low"])
    fwin = [m.funding[d] for d in win if d in m.funding]
    if fwin:
        checks += check(f"{slug} BTC_funding_mean_8h_min_in_win", min(fwin), row["BTC_funding_mean_8h_min_in_win"], 1e-6)

    # vol shocks
    vol_shocks, vol_note, vol_info = {}, "", {}
    rv_ratio = {a: realised_ratio(m, a, i0, i1) for a in OPTION_UNDERLYINGS}
    dvol = dvol_move(m, i0, i1)
    if dvol is not None:
        dmax, dmax_day, _ = dvol
        v = dmax / m.dvol[pre] - 1
        checks += check(f"{slug} BTC_DVOL_pre", m.dvol[pre], row["BTC_DVOL_pre"], 1e-9)
        if row["BTC_DVOL_max_in_win"]:
            t = float(row["BTC_DVOL_max_in_win"])
            if abs(dmax - t) > 1e-9:
                # stress_episodes.csv takes its DVOL maximum over a longer span than the price window
                assert dmax <= t, (slug, dmax, t)
                vol_info["dvol_note"] = (f"stress_episodes.csv's BTC_DVOL_max_in_win {fnum(t)} lies after the price "
                                         f"window; the window maximum is used")
            else:
                checks += 1
        vol_shocks = {"BTC": v, "ETH": v}
        vol_note = (f"vol shocks: BTC = max Deribit DVOL in the window ({fnum(dmax)} on {dmax_day}) / DVOL on {pre} "
                    f"({fnum(m.dvol[pre])}) - 1 (btc_dvol_daily.csv); ETH the same number as a proxy (no ETH "
                    f"implied-vol data ships)")
        vol_info.update(dvol_pre=m.dvol[pre], dvol_max=dmax, realised_ratio=rv_ratio["BTC"] - 1)
    else:
        for a in OPTION_UNDERLYINGS:
            vol_shocks[a] = rv_ratio[a] ** elasticity - 1
        vol_note = (f"vol shocks (no DVOL before 2022-11-06): per asset ({RV_SHORT}-day realised vol of daily log returns "
                    f"to {w1} / {RV_LONG}-day realised vol to {pre})^{elasticity:.4f} - 1 from daily_close_usd.csv, "
                    f"the exponent being the implied/realised vol elasticity measured on the DVOL-era episodes "
                    f"(see scenarios/README.md)")
        vol_info.update(realised_ratio=rv_ratio["BTC"] - 1)
    for a, v in vol_shocks.items():
        if not v > -1:
            fail(f"{slug}: vol shock {v} for {a}")

    alt_moves = [shocks[a] for a in ALTS if a in shocks]
    unlisted_crypto = median(alt_moves)
    unlisted_stable = min(0.0, min(shocks[a] for a in STABLE if a in shocks))
    unlisted_vol = vol_shocks["BTC"]

    trough_note = ("the window end" if trough == w1 else
                   f"{trough}: BTC's lowest close in the window; at the window end {w1} BTC was {pct(stats['BTC']['win'])}")
    stable_note = ""
    if w0 < "2019-01-01":
        stable_note = " (Yahoo's stablecoin prices before 2019 wobble by 1-5%: aggregation noise more than depegs)"
    src = (f"data/daily_close_usd.csv (Yahoo Finance closes with the data/daily_close_usd_fixes.csv corrections) "
           f"via python3 data/derive.py. Window {w0}..{w1} from data/stress_episodes.csv. Crypto: shock = "
           f"close({trough}) / close({pre}) - 1 for every asset on the market's trough day ({trough_note}): "
           f"the worst joint mark a book would see before close-out; window-end moves and worst one-day moves are "
           f"in scenarios/README.md. Stablecoins: minimum close in the window / close({pre}) - 1 because a depeg "
           f"that recovers within the window still hits margin{stable_note}. {vol_note}. Unlisted: crypto = median "
           f"of the listed altcoin shocks ({', '.join(a for a in ALTS if a in shocks)}); stablecoin = the worst listed "
           f"stablecoin shock capped at 0; vol = the BTC vol shock. Checked against data/stress_episodes.csv "
           f"({checks} values within {CHECK_TOL}).")
    lines = [f"name = {toml_str(name)}", 'kind = "historical"', f"description = {toml_str(desc)}",
             f"source = {toml_str(src)}", f"window = {toml_str(f'{pre} close .. {w1} close')}", "",
             "[shocks]"]
    lines += [f"{a} = {fdec(v)}" for a, v in shocks.items()]
    lines += ["", "[vol_shocks]"]
    lines += [f"{a} = {fdec(v)}" for a, v in vol_shocks.items()]
    lines += ["", "[unlisted]", f"crypto = {fdec(unlisted_crypto)}", f"stablecoin = {fdec(unlisted_stable)}",
              f"vol = {fdec(unlisted_vol)}", ""]
    path = os.path.join(SCEN_DIR, "historical", f"{slug}.toml")
    write(path, "\n".join(lines))
    return dict(slug=slug, name=name, kind="historical", shocks=shocks, vol=vol_shocks,
                unlisted=dict(crypto=unlisted_crypto, stablecoin=unlisted_stable, vol=unlisted_vol),
                window=f"{pre}..{w1}", trough=trough, stats=stats, checks=checks, vol_info=vol_info,
                path=f"historical/{slug}.toml")


# ----------------------------------------------------------------------------- hypothetical scenarios

def reference_facts(m, hist):
    """Numbers quoted in the hypothetical scenarios' rationale, all computed from data/."""
    facts = {}
    worst = min(hist, key=lambda h: h["shocks"]["BTC"])
    facts["worst_btc"] = f"{pct(worst['shocks']['BTC'])} in {worst['name']}"
    worst = min(hist, key=lambda h: h["shocks"]["ETH"])
    facts["worst_eth"] = f"{pct(worst['shocks']['ETH'])} in {worst['name']}"
    by = {h["slug"]: h for h in hist}
    ftx = by["2022-11-ftx"]["vol_info"]
    facts["ftx_dvol"] = f"{pct(ftx['dvol_max'] / ftx['dvol_pre'] - 1, 0)}"
    yen = by["2024-08-05-yen-carry"]["vol_info"]
    facts["yen_dvol"] = f"{pct(yen['dvol_max'] / yen['dvol_pre'] - 1, 0)}"
    svb = by["2023-03-svb-usdc-depeg"]["vol_info"]
    facts["svb_dvol"] = f"{pct(svb['dvol_max'] / svb['dvol_pre'] - 1, 0)}"
    facts["eth_celsius"] = pct(by["2022-06-celsius-3ac"]["shocks"]["ETH"])
    # largest 10-day BTC rise
    b = m.closes["BTC"]
    best = max(((b[i] / b[i - 10] - 1, m.dates[i]) for i in range(10, len(b)) if b[i - 10] is not None))
    facts["btc_rally10"] = f"{pct(best[0])} to {best[1]}"
    # largest 10-day ETH-BTC log-return gap (ETH under BTC)
    e = m.closes["ETH"]
    gap = min(((math.log(e[i] / e[i - 10]) - math.log(b[i] / b[i - 10]), m.dates[i], e[i] / e[i - 10] - 1,
                b[i] / b[i - 10] - 1) for i in range(10, len(b)) if m.dates[i] >= "2019-01-01"))
    facts["eth_gap"] = f"{gap[0]:.2f} to {gap[1]} (ETH {pct(gap[2])}, BTC {pct(gap[3])})"
    # stablecoin lows
    # since 2019 (earlier prices are aggregation noise), leaving out 2020-03 (0.8995 on
    # 2020-03-13 in the file, flagged as suspect in data/SOURCES.md)
    usdt_after = [(v["low"], d) for d, v in m.ohlcv["USDT"].items() if d >= "2019-01-01" and not d.startswith("2020-03")]
    lo = min(usdt_after)
    facts["usdt_low"] = f"{lo[0]:.4f} on {lo[1]} ({pct(lo[0] - 1)}; the suspect 2020-03 lows left out)"
    ulo = min((v["low"], d) for d, v in m.ohlcv["USDC"].items())
    facts["usdc_low"] = f"{ulo[0]:.4f} on {ulo[1]} ({pct(ulo[0] - 1)})"
    facts["usdc_close"] = f"{m.ohlcv['USDC']['2023-03-11']['close']:.4f}"
    # DVOL 30-day extremes
    dv = m.dvol
    moves = []
    for d, v in dv.items():
        d30 = (day(d) + dt.timedelta(days=30)).isoformat()
        if d30 in dv:
            moves.append((dv[d30] / v - 1, d, d30))
    fall, rise = min(moves), max(moves)
    facts["dvol_fall30"] = f"{pct(fall[0], 0)} ({fall[1]}..{fall[2]})"
    facts["dvol_rise30"] = f"{pct(rise[0], 0)} ({rise[1]}..{rise[2]})"
    facts["dvol_val"] = fnum(dv[VALUATION])
    facts["dvol_spiked"] = fnum(dv[VALUATION] * 2.5, 3)
    top = max((v, d) for d, v in dv.items())
    facts["dvol_max"] = f"{fnum(top[0])} on {top[1]}"
    return facts


def derive_hypothetical(facts):
    out = []
    for slug, name, desc, shocks, vols, unlisted, why in HYPOTHETICAL:
        assert set(shocks) <= set(ASSETS) and set(vols) <= set(OPTION_UNDERLYINGS)
        rationale = why.format(**facts)
        src = (f"hypothetical: numbers chosen by the clearstress authors; written by python3 data/derive.py. "
               f"Rationale: {rationale}. Unlisted assets get the crypto move, the stablecoin move and the vol move "
               f"under [unlisted].")
        lines = [f"name = {toml_str(name)}", 'kind = "hypothetical"', f"description = {toml_str(desc)}",
                 f"source = {toml_str(src)}", "", "[shocks]"]
        lines += [f"{a} = {fnum(v)}" for a, v in shocks.items()]
        lines += ["", "[vol_shocks]"]
        lines += [f"{a} = {fnum(v)}" for a, v in vols.items()]
        lines += ["", "[unlisted]"] + [f"{k} = {fnum(unlisted[k])}" for k in ("crypto", "stablecoin", "vol")] + [""]
        write(os.path.join(SCEN_DIR, "hypothetical", f"{slug}.toml"), "\n".join(lines))
        out.append(dict(slug=slug, name=name, kind="hypothetical", shocks=shocks, vol=vols, unlisted=unlisted,
                        path=f"hypothetical/{slug}.toml"))
    return out


# ----------------------------------------------------------------------------- scenarios/README.md

def shock_of(s, a):
    d = 2 if a in STABLE else 1
    if a in s["shocks"]:
        return pct(s["shocks"][a], d)
    cls = "stablecoin" if a in STABLE else "crypto"
    return pct(s["unlisted"][cls], d) + " (u)"


def vol_of(s, a):
    if a in s["vol"]:
        return pct(s["vol"][a], 0)
    return pct(s["unlisted"]["vol"], 0) + " (u)"


def write_readme(hist, hyp, facts, elasticity):
    L = []
    L.append("# Stress scenarios")
    L.append("")
    L.append("<!-- Generated by `python3 data/derive.py`; edit the script, not this file. -->")
    L.append("")
    L.append("Each `.toml` file here is one deterministic stress scenario: a relative move per asset price and per "
             "implied volatility, applied to the snapshot's market at once. `historical/` holds moves measured on "
             "real episodes; `hypothetical/` holds moves we chose to stress a named exposure. clearstress embeds "
             "these files (`src/sample/mod.rs`) and reads any folder of files in the same format named by "
             "`stress = [...]` in `ccp.toml`, in path order.")
    L.append("")
    L.append("## Format")
    L.append("")
    bt = next(h for h in hist if h["slug"] == "2020-03-12-black-thursday")
    L.append("```toml")
    L.append(f'name = "{bt["name"]}"   # shown in the reports')
    L.append('kind = "historical"                  # "historical" or "hypothetical"')
    L.append('description = "..."                  # what happened, or what is assumed')
    L.append('source = "..."                       # how the numbers were obtained: files, dates, formula, script')
    L.append(f'window = "{bt["window"].replace("..", " close .. ")} close"   # historical only; documentation')
    L.append("")
    L.append("[shocks]          # relative price move: new_price = old_price * (1 + shock), shock > -1")
    L.append(f"BTC = {fdec(bt['shocks']['BTC'])}")
    L.append(f"USDT = {fdec(bt['shocks']['USDT'])}")
    L.append("")
    L.append("[vol_shocks]      # relative implied-vol move: new_vol = old_vol * (1 + shock), shock > -1")
    L.append(f"BTC = {fdec(bt['vol']['BTC'])}")
    L.append("")
    L.append("[unlisted]        # for the market's assets the file does not name")
    L.append(f"crypto = {fdec(bt['unlisted']['crypto'])}   # any other crypto asset (e.g. a book's synthetic ones)")
    L.append(f"stablecoin = {fdec(bt['unlisted']['stablecoin'])}  # any other stablecoin")
    L.append(f"vol = {fdec(bt['unlisted']['vol'])}      # any underlying without a [vol_shocks] entry")
    L.append("```")
    L.append("")
    L.append("- `name`, `kind`: required. `description`, `source`, `window`: free text, for the reports and for "
             "people.")
    L.append("- `[shocks]`: asset id (as in the snapshot's assets table) to relative move. An asset named here "
             "that the market lacks is ignored; a market asset not named takes `[unlisted]`'s move for its class, "
             "and it is an error if that is missing too.")
    L.append("- `[vol_shocks]`: underlying to relative implied-vol move, applied to the whole smile; an "
             "underlying not named takes `unlisted.vol` (0 if absent).")
    L.append("")
    L.append("## How the historical scenarios are computed")
    L.append("")
    L.append("`python3 data/derive.py` (run from the repository root) writes every file here from "
             "`data/daily_close_usd.csv` (Yahoo Finance daily closes, UTC days, with the stale-close fixes of "
             "`data/daily_close_usd_fixes.csv` applied), `data/btc_dvol_daily.csv` (Deribit DVOL) and the windows "
             "of `data/stress_episodes.csv`; nothing is typed by hand. Provenance: `data/SOURCES.md`.")
    L.append("")
    L.append("- **Window**: the `window` column of `data/stress_episodes.csv`; moves are measured from the close "
             "of the day before the window.")
    L.append("- **Crypto price shocks**: every asset's close on the market's trough day (the window day with "
             "BTC's lowest close) over its close the day before the window, minus 1. That is the worst joint "
             "mark a book held through the episode would see before close-out, and it keeps the assets' moves "
             "from one and the same day, so hedged books are treated fairly. It equals the window-end move in "
             f"{sum(h['trough'] == h['window'][-10:] for h in hist)} of the {len(hist)} episodes; the table below gives the window-end and worst one-day BTC moves "
             "for comparison. Assets without closes in the window are left out (SOL starts on 2020-04-10).")
    L.append("- **Stablecoin price shocks**: the minimum close in the window over the close before it, minus 1: "
             "a depeg that recovers within the window still hits margin. Intraday lows are not used (the "
             "USDC low of 0.8774 on 2023-03-11 is what `hypothetical/usdc-depeg-13.toml` uses). Yahoo's "
             "stablecoin prices before 2019 wobble by 1-5% (aggregation noise, not depegs), so the 2018 numbers "
             "are noisy.")
    L.append("- **Vol shocks** (BTC and ETH, the option underlyings): from 2022-11-06, when DVOL starts, "
             "BTC = max DVOL in the window / DVOL the day before - 1, and ETH the same number as a proxy (no ETH "
             "implied-vol data ships). Before that, for each of BTC and ETH, the "
             f"{RV_SHORT}-day realised vol (zero-mean, daily log returns) ending at the window end over the "
             f"{RV_LONG}-day realised vol ending the day before the window, raised to the implied/realised "
             f"elasticity e = {elasticity:.4f}, minus 1 (see below).")
    L.append("- **Unlisted**: crypto = the median of the listed altcoin shocks (all but BTC, ETH and the "
             "stablecoins); stablecoin = the worst listed stablecoin shock, capped at 0; vol = the BTC vol shock.")
    L.append("- The script cross-checks its window, one-day, worst-day, trough, intraday-low, stablecoin-minimum, "
             "funding and DVOL numbers against `data/stress_episodes.csv` (within 1e-3) and fails if they "
             "disagree.")
    L.append("")
    L.append("**Pre-DVOL vol shocks.** Implied vol is a forecast over the option's life and jumps less than "
             "short-window realised vol. On the DVOL-era episodes:")
    L.append("")
    L.append("| Episode | DVOL move (used) | realised-vol ratio - 1 | ln(1 + DVOL move) / ln(ratio) |")
    L.append("|---|---:|---:|---:|")
    for h in hist:
        vi = h["vol_info"]
        if "dvol_pre" in vi:
            e = math.log(1 + h['vol']['BTC']) / math.log(1 + vi['realised_ratio'])
            L.append(f"| {h['name']} | {pct(h['vol']['BTC'], 0)} | {pct(vi['realised_ratio'], 0)} | {e:.3f} |")
    L.append("")
    L.append(f"The mean, e = {elasticity:.4f}, turns the earlier episodes' realised ratios into implied-vol "
             "shocks: ratio^e - 1. The raw ratios would have given up to "
             + pct(max(h['vol_info']['realised_ratio'] for h in hist if 'dvol_pre' not in h['vol_info']), 0)
             + ", six times the pre-crash level, an implied vol no option market showed.")
    L.append("")
    L.append("## Every scenario")
    L.append("")
    L.append("Price shocks (BTC, ETH, USDT, USDC), vol shocks (BTC, ETH) and the unlisted-crypto move. "
             "(u): not named in the file, taken from `[unlisted]`.")
    L.append("")
    L.append("| File | Name | BTC | ETH | USDT | USDC | BTC vol | ETH vol | unlisted crypto |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for s in hist + hyp:
        L.append(f"| `{s['path']}` | {s['name']} | {shock_of(s, 'BTC')} | {shock_of(s, 'ETH')} | "
                 f"{shock_of(s, 'USDT')} | {shock_of(s, 'USDC')} | {vol_of(s, 'BTC')} | {vol_of(s, 'ETH')} | "
                 f"{pct(s['unlisted']['crypto'])} |")
    L.append("")
    L.append("Historical episodes, BTC: the shock used against the window-end and worst one-day moves.")
    L.append("")
    L.append("| Episode | window (prior close .. end) | trough day | BTC shock (trough day) | BTC window end | "
             "BTC worst 1-day | BTC intraday low vs prior close |")
    L.append("|---|---|---|---:|---:|---:|---:|")
    for h in hist:
        st = h["stats"]["BTC"]
        L.append(f"| {h['name']} | {h['window']} | {h['trough']} | {pct(h['shocks']['BTC'])} | {pct(st['win'])} | "
                 f"{pct(st['worst1d'])} | {pct(st['low'])} |")
    L.append("")
    L.append("## Hypothetical scenarios")
    L.append("")
    L.append("Chosen, not measured; each file's `description` and `source` give the exposure it targets and the "
             "data it is sized against. Reference points computed by `data/derive.py`:")
    L.append("")
    L.append(f"- worst historical shocks here: BTC {facts['worst_btc']}; ETH {facts['worst_eth']}")
    L.append(f"- largest 10-day BTC rise: {facts['btc_rally10']}")
    L.append(f"- DVOL moves: FTX {facts['ftx_dvol']}, yen-carry {facts['yen_dvol']}, SVB {facts['svb_dvol']}; "
             f"largest 30-day DVOL rise {facts['dvol_rise30']}, fall {facts['dvol_fall30']}")
    L.append(f"- USDT lowest low since 2019: {facts['usdt_low']}; USDC lowest low: {facts['usdc_low']}")
    L.append(f"- largest 10-day ETH-minus-BTC log-return gap since 2019: {facts['eth_gap']}")
    L.append("")
    write(os.path.join(SCEN_DIR, "README.md"), "\n".join(L))


# ----------------------------------------------------------------------------- main

def main():
    if not os.path.isfile(os.path.join(DATA, "derive.py")):
        fail("run from the repository root: python3 data/derive.py")
    m = Market()
    assets, btc_funding, fdates = derive_assets(m)
    corr, c0, c1, min_pivot = derive_correlation(m)
    iv = derive_implied_vol(m)
    index_days = derive_implied_vol_index()
    elasticity, n_el = implied_elasticity(m)
    hist = [derive_episode(m, elasticity, *e) for e in EPISODES]
    facts = reference_facts(m, hist)
    hyp = derive_hypothetical(facts)
    write_readme(hist, hyp, facts, elasticity)

    print(f"valuation {VALUATION}; EWMA lambda {EWMA_LAMBDA}; vols annualised with sqrt({ANNUALISE})")
    print(f"{'asset':6s} {'spot':>12s} {'date':>11s} {'vol':>8s} {'funding_8h':>12s} {'basis':>9s} {'adv_usd':>10s}")
    for a in ASSETS:
        x = assets[a]
        floor = "  (EWMA %.4f, floored)" % x["raw_vol"] if x["vol"] != x["raw_vol"] else ""
        print(f"{a:6s} {fnum(x['spot']):>12s} {x['spot_date']:>11s} {x['vol']:8.4f} {x['funding']:12.4e} "
              f"{x['basis']:9.4f} {x['adv']:10.3e}{floor}")
    print(f"BTC funding: mean of {len(fdates)} daily means {fdates[0]}..{fdates[-1]}")
    print(f"correlation: {CORR_RETURNS} returns {c0}..{c1}; Cholesky min pivot {min_pivot:.4f}")
    print("       " + " ".join(f"{a:>6s}" for a in ASSETS))
    for i, a in enumerate(ASSETS):
        print(f"{a:6s} " + " ".join(f"{corr[i][j]:6.3f}" for j in range(len(ASSETS))))
    print(f"ATM vols: BTC {iv['btc']:.4f} (DVOL {iv['dvol_day']}), ETH {iv['eth']:.4f} "
          f"(30d realised ETH {iv['rv_eth']:.3f} / BTC {iv['rv_btc']:.3f})")
    print(f"implied-vol index: {index_days} days of BTC DVOL in data/implied_vol_index.csv")
    print(f"implied/realised vol elasticity {elasticity:.4f} (mean over {n_el} DVOL-era episodes)")
    print(f"{'scenario':34s} {'BTC':>8s} {'ETH':>8s} {'USDT':>8s} {'USDC':>8s} {'BTCvol':>8s} {'ETHvol':>8s} checks")
    for s in hist + hyp:
        def g(a, cls):
            return s["shocks"].get(a, s["unlisted"][cls])
        print(f"{s['path']:34s} {g('BTC', 'crypto'):8.4f} {g('ETH', 'crypto'):8.4f} {g('USDT', 'stablecoin'):8.4f} "
              f"{g('USDC', 'stablecoin'):8.4f} {s['vol'].get('BTC', s['unlisted']['vol']):8.4f} "
              f"{s['vol'].get('ETH', s['unlisted']['vol']):8.4f} {s.get('checks', '')}")
        if s.get("vol_info", {}).get("dvol_note"):
            print(f"  note: {s['vol_info']['dvol_note']}")


if __name__ == "__main__":
    main()
