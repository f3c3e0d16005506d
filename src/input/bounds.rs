//! The plausibility range of every numeric input, stated once.
//!
//! A range is a [`Bounds`]: what the value is, and two ends, each open or closed.
//! It formats itself as an interval ("(0, 10]"), so the README, the error messages
//! and the check cannot disagree. The tables' [`Row::f64_in`](super::Row::f64_in),
//! `ccp.toml`'s checks and the stress files' checks all read their ranges from the
//! constants here.
//!
//! The ranges are wide enough for any book a crypto CCP clears and narrow enough
//! that a loss stays finite and far inside the exact tail sums' range
//! (`tail::EXACT_SUM_LIMIT`, 2^64 = 1.8e19 USD, which a test there checks
//! against these ranges): a member's gross notional
//! is at most [`MAX_NOTIONAL_USD`] (1e15), a stress move multiplies a price by at
//! most 1 + 1000, so a stress loss is below 1e18; funding over a year of margin
//! period adds at most 0.1 x 3 x 365 = 110 times the notional.

use std::fmt;

/// One end of a range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum End {
    /// The value itself is excluded: `(` or `)`.
    Open(f64),
    /// The value itself is included: `[` or `]`.
    Closed(f64),
}

/// A range of plausible values for one input, and what that input is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// The value in words, with its unit, as an error's "expected ..." reads:
    /// "an annualised volatility".
    pub what: &'static str,
    pub low: End,
    pub high: End,
}

impl Bounds {
    pub const fn new(what: &'static str, low: End, high: End) -> Self {
        Self { what, low, high }
    }

    /// The whole numbers from `low` to `high`, both included, for a count
    /// whose ends the code also needs as integers.
    pub const fn whole(what: &'static str, low: u64, high: u64) -> Self {
        Self::new(what, End::Closed(low as f64), End::Closed(high as f64))
    }

    /// Whether `x` is finite and within both ends (false for NaN).
    pub fn contains(&self, x: f64) -> bool {
        let above = match self.low {
            End::Open(low) => x > low,
            End::Closed(low) => x >= low,
        };
        let below = match self.high {
            End::Open(high) => x < high,
            End::Closed(high) => x <= high,
        };
        x.is_finite() && above && below
    }

    /// What an error expects: "an annualised volatility in (0, 10]".
    pub fn expected(&self) -> String {
        format!("{} in {self}", self.what)
    }

    /// `x` if it is within range, else the message "expected <what> in <range>,
    /// found <x>".
    pub fn check(&self, x: f64) -> Result<f64, String> {
        if self.contains(x) {
            Ok(x)
        } else {
            Err(format!("expected {}, found {}", self.expected(), Number(x)))
        }
    }
}

/// The interval in mathematical notation: "(0, 10]", "[-1e15, 1e15]".
impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (open, low) = match self.low {
            End::Open(x) => ('(', x),
            End::Closed(x) => ('[', x),
        };
        let (close, high) = match self.high {
            End::Open(x) => (')', x),
            End::Closed(x) => (']', x),
        };
        write!(f, "{open}{}, {}{close}", Number(low), Number(high))
    }
}

/// A number as a person writes it in a range: plain from 1e-4 to 1e7 ("0.5",
/// "1048576"), in exponent form beyond ("1e15", "1e-12"), so that a bound reads
/// at a glance and an absurd value found is not 300 digits long.
#[derive(Debug, Clone, Copy)]
pub struct Number(pub f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        if x != 0.0 && x.is_finite() && !(1e-4..1e7).contains(&x.abs()) {
            write!(f, "{x:e}")
        } else {
            write!(f, "{x}")
        }
    }
}

/// A model parameter for a reader or a column name: four significant digits,
/// no trailing zeros (a fitted NIG shape 0.6816205280301094 shows as 0.6816).
#[derive(Debug, Clone, Copy)]
pub struct Significant(pub f64);

impl fmt::Display for Significant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        if x == 0.0 || !x.is_finite() {
            return write!(f, "{x}");
        }
        let decimals = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        let text = format!("{x:.decimals$}");
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        f.write_str(text)
    }
}

use End::{Closed, Open};

/// Largest gross notional of one member (the sum over its positions of |quantity|
/// x contract size x the larger of spot, forward and strike; USD face for inverse
/// futures and perpetuals), and largest collateral value of one member, USD.
pub const MAX_NOTIONAL_USD: f64 = 1e15;

/// Longest time from the valuation date to an expiry: 30 years, in days.
pub const MAX_EXPIRY_DAYS: i32 = 30 * 365;

// Tables.

/// `members.df_contribution`.
pub const DF_CONTRIBUTION: Bounds = Bounds::new("an amount in USD", Closed(0.0), Closed(1e12));
/// `instruments.contract_size`: underlying units (linear, options) or USD face
/// (inverse futures and perpetuals) per contract.
pub const CONTRACT_SIZE: Bounds = Bounds::new("a contract size", Open(0.0), Closed(1e12));
/// `market/assets.spot`, `instruments.strike`, `market/vol_surface.strike`. The
/// lower end keeps 1/price (inverse contracts) finite.
pub const PRICE: Bounds = Bounds::new("a price in USD", Closed(1e-12), Closed(1e9));
/// `positions.quantity`, in contracts, negative for short.
pub const QUANTITY: Bounds = Bounds::new("a number of contracts", Closed(-1e15), Closed(1e15));
/// `collateral.amount`, in units of the asset (USD for cash).
pub const COLLATERAL_AMOUNT: Bounds = Bounds::new("an amount of units", Closed(0.0), Closed(1e15));
/// `market/assets.volatility`, annualised (365-day year).
pub const VOLATILITY: Bounds = Bounds::new("an annualised volatility", Open(0.0), Closed(10.0));
/// `market/assets.funding_rate_8h`: funding per 8-hour period (0.1 = 10%).
pub const FUNDING_RATE_8H: Bounds =
    Bounds::new("a funding rate per 8 hours", Closed(-0.1), Closed(0.1));
/// `market/assets.basis`: annualised carry, F = S exp(basis T).
pub const BASIS: Bounds = Bounds::new("an annualised basis", Closed(-2.0), Closed(2.0));
/// `market/assets.adv_usd`: average daily traded value in USD; above the
/// largest any coin trades (USDT's 90-day mean to 2025-02-11 is 1.4e11), and
/// positive so that the close-out's square-root impact stays finite.
pub const ADV_USD: Bounds = Bounds::new(
    "an average daily traded value in USD",
    Open(0.0),
    Closed(1e13),
);
/// `market/correlation`.
pub const CORRELATION: Bounds = Bounds::new("a correlation", Closed(-1.0), Closed(1.0));
/// `market/vol_surface.implied_vol`, annualised.
pub const IMPLIED_VOL: Bounds = Bounds::new("an implied volatility", Open(0.0), Closed(10.0));
/// `market/rates.tenor_days`.
pub const TENOR_DAYS: Bounds = Bounds::new("a tenor in days", Closed(0.0), Closed(36_500.0));
/// `market/rates.rate`: continuously compounded, annualised.
pub const RATE: Bounds = Bounds::new("a zero rate", Closed(-0.5), Closed(1.0));

// ccp.toml.

/// `risk.margin_period_days`.
pub const MARGIN_PERIOD_DAYS: Bounds = Bounds::new("a number of days", Open(0.0), Closed(365.0));
/// `risk.steps`.
pub const STEPS: Bounds = Bounds::new("a whole number of steps", Closed(1.0), Closed(1000.0));
/// `risk.var_confidence`, `risk.es_confidence`, `risk.margin_confidence`.
pub const CONFIDENCE: Bounds = Bounds::new("a confidence level", Open(0.5), Open(1.0));
/// `scenario.paths` (and every `--paths` flag): fewer than 1000 cannot place
/// a 99% tail (10 losses); up to 1e11 scenarios the exact tail sums of squared
/// losses below 1e18 stay within their 160 integer bits, and the tail plan's
/// rank products within u64.
pub const PATHS: Bounds = Bounds::whole("a whole number of paths", MIN_PATHS, MAX_PATHS);
pub const MIN_PATHS: u64 = 1_000;
pub const MAX_PATHS: u64 = 100_000_000_000;
/// `scenario.dof`: the Student-t needs more than 2 for a variance; beyond 64 it
/// is Gaussian for any practical purpose.
pub const DOF: Bounds = Bounds::new(
    "a whole number of degrees of freedom",
    Closed(3.0),
    Closed(64.0),
);
/// `scenario.nig_shape`: the shapes `calibrate` fits over (below 0.05 the
/// tails are heavier than any fitted to the shipped history; above 1000 the
/// law is Gaussian for any practical purpose).
pub const NIG_SHAPE: Bounds =
    Bounds::new("an NIG shape", Closed(MIN_NIG_SHAPE), Closed(MAX_NIG_SHAPE));
pub const MIN_NIG_SHAPE: f64 = 0.05;
pub const MAX_NIG_SHAPE: f64 = 1000.0;
/// `scenario.block_size`.
pub const BLOCK_SIZE: Bounds = Bounds::new(
    "a whole number of scenarios",
    Closed(64.0),
    Closed(1_048_576.0),
);
/// `scenario.jumps.intensity_per_year`: at most one jump a day on average.
pub const JUMP_INTENSITY: Bounds =
    Bounds::new("a number of jumps per year", Closed(0.0), Closed(365.0));
/// `scenario.jumps.mean_sigmas`, in units of each asset's daily volatility.
pub const JUMP_MEAN: Bounds = Bounds::new(
    "a mean jump in daily volatilities",
    Closed(-20.0),
    Closed(20.0),
);
/// `scenario.jumps.stdev_sigmas`, in units of each asset's daily volatility.
pub const JUMP_STDEV: Bounds = Bounds::new(
    "a jump standard deviation in daily volatilities",
    Closed(0.0),
    Closed(10.0),
);
/// `scenario.vol_shock.vol_of_vol`: annualised volatility of log implied vol.
pub const VOL_OF_VOL: Bounds = Bounds::new("a volatility of volatility", Closed(0.0), Closed(5.0));
/// `scenario.vol_shock.spot_vol_correlation`.
pub const SPOT_VOL_CORRELATION: Bounds = CORRELATION;
/// `scenario.historical.lookback_days`: at least the 30 days the EWMA filter
/// needs, at most a century.
pub const LOOKBACK_DAYS: Bounds = Bounds::whole(
    "a whole number of days",
    MIN_LOOKBACK_DAYS as u64,
    MAX_LOOKBACK_DAYS as u64,
);
pub const MIN_LOOKBACK_DAYS: u32 = 30;
pub const MAX_LOOKBACK_DAYS: u32 = 36_500;
/// `scenario.historical.lambda`: EWMA decay.
pub const EWMA_LAMBDA: Bounds = Bounds::new("an EWMA decay", Open(0.0), Open(1.0));
/// `collateral.haircuts.*`: collateral counts at value x (1 - haircut).
pub const HAIRCUT: Bounds = Bounds::new("a haircut", Closed(0.0), Open(1.0));
/// `collateral.member_share.*`, `collateral.issuer_share.*`: the most of a
/// member's (or the CCP's) eligible collateral one asset (or issuer) may
/// count for; 0 is left to `eligible`, which says it more plainly.
pub const CONCENTRATION_SHARE: Bounds =
    Bounds::new("a share of the eligible collateral", Open(0.0), Closed(1.0));
/// `default_fund.cover`.
pub const COVER: Bounds = Bounds::new("a whole number of member groups", Closed(1.0), Closed(10.0));
/// `default_fund.skin_in_the_game`.
pub const SKIN_IN_THE_GAME: Bounds = Bounds::new("an amount in USD", Closed(0.0), Closed(1e12));
/// `members.capital`: what a member can lose to the default fund and
/// assessments before it defaults itself; `members.liquid_resources`: the
/// cash it can pay an assessment with at once.
pub const CAPITAL: Bounds = Bounds::new("an amount in USD", Closed(0.0), Closed(1e13));
/// `liquidity.resources.*`: units of USD or of an asset the CCP holds.
pub const LIQUID_RESOURCES: Bounds =
    Bounds::new("an amount in units of the asset", Closed(0.0), Closed(1e15));

/// `close_out.impact_coefficient`: Y of the square-root law, measured near 1
/// (0.5 to 2 across markets); 0 switches impact off.
pub const IMPACT_COEFFICIENT: Bounds =
    Bounds::new("an impact coefficient", Closed(0.0), Closed(10.0));
/// `close_out.half_spread.*`, `close_out.half_spread_by_asset.*`: half the
/// bid-ask spread as a fraction of the price.
pub const HALF_SPREAD: Bounds = Bounds::new("a half spread", Closed(0.0), Closed(0.5));
/// `waterfall.second_skin_in_the_game` and `waterfall.insurance_fund`: the
/// CCP's (or venue's) own resources, as `default_fund.skin_in_the_game`.
pub const CCP_RESOURCE: Bounds = SKIN_IN_THE_GAME;
/// `waterfall.assessment_multiple`: each survivor's assessment cap as a
/// multiple of its default fund contribution. Rulebooks cap assessments at
/// about one to a few times the contribution; 10 leaves room for a stress
/// test without admitting an unbounded call.
pub const ASSESSMENT_MULTIPLE: Bounds =
    Bounds::new("a multiple of the contribution", Open(0.0), Closed(10.0));

// Stress scenario files.

/// `shocks.*`, `unlisted.crypto`, `unlisted.stablecoin`: new price = old x (1 +
/// shock). -1 would take a price to zero; +1000 covers the largest one-year rise
/// in the shipped history (DOGE, +263.7 from 2020-05-05 to 2021-05-05), which
/// `worst-window --days 365 --out` can write.
pub const PRICE_SHOCK: Bounds = Bounds::new("a relative price move", Open(-1.0), Closed(1000.0));
/// `vol_shocks.*`, `unlisted.vol`: new implied vol = old x (1 + shock).
pub const VOL_SHOCK: Bounds = Bounds::new("a relative implied-vol move", Open(-1.0), Closed(10.0));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_formats_its_ends_as_an_interval() {
        assert_eq!(VOLATILITY.to_string(), "(0, 10]");
        assert_eq!(HAIRCUT.to_string(), "[0, 1)");
        assert_eq!(CONFIDENCE.to_string(), "(0.5, 1)");
        assert_eq!(QUANTITY.to_string(), "[-1e15, 1e15]");
        assert_eq!(PRICE.to_string(), "[1e-12, 1e9]");
        assert_eq!(BLOCK_SIZE.to_string(), "[64, 1048576]");
        assert_eq!(VOLATILITY.expected(), "an annualised volatility in (0, 10]");
    }

    #[test]
    fn an_open_end_refuses_its_value_and_a_closed_end_accepts_it() {
        assert!(!VOLATILITY.contains(0.0));
        assert!(VOLATILITY.contains(f64::MIN_POSITIVE));
        assert!(VOLATILITY.contains(10.0));
        assert!(!VOLATILITY.contains(10.0 + 1e-12));
        assert!(HAIRCUT.contains(0.0) && !HAIRCUT.contains(1.0));
        assert!(!PRICE_SHOCK.contains(-1.0) && PRICE_SHOCK.contains(1000.0));
    }

    #[test]
    fn nan_and_infinities_are_in_no_range() {
        let everything = Bounds::new("anything", Closed(f64::NEG_INFINITY), Closed(f64::INFINITY));
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(!everything.contains(x), "{x}");
        }
        assert!(everything.contains(f64::MAX) && everything.contains(-f64::MAX));
    }

    #[test]
    fn a_failed_check_says_what_where_and_what_was_found() {
        assert_eq!(VOLATILITY.check(0.55), Ok(0.55));
        assert_eq!(
            VOLATILITY.check(50.0).unwrap_err(),
            "expected an annualised volatility in (0, 10], found 50"
        );
        assert_eq!(
            QUANTITY.check(1e308).unwrap_err(),
            "expected a number of contracts in [-1e15, 1e15], found 1e308"
        );
        assert_eq!(
            HAIRCUT.check(f64::NAN).unwrap_err(),
            "expected a haircut in [0, 1), found NaN"
        );
    }

    #[test]
    fn numbers_are_plain_in_the_usual_range_and_exponents_beyond() {
        let shown: Vec<String> = [
            0.0,
            -0.5,
            365.0,
            1e-4,
            9_999_999.0,
            1e7,
            2.5e-5,
            -1e15,
            1e308,
        ]
        .into_iter()
        .map(|x| Number(x).to_string())
        .collect();
        assert_eq!(
            shown,
            ["0", "-0.5", "365", "0.0001", "9999999", "1e7", "2.5e-5", "-1e15", "1e308"]
        );
    }

    #[test]
    fn parameters_show_four_significant_digits() {
        for (x, shown) in [
            (0.6816205280301094, "0.6816"),
            (1.6666666666666667, "1.667"),
            (3.0, "3"),
            (0.7, "0.7"),
            (12345.678, "12346"),
            (-2.5, "-2.5"),
            (0.0, "0"),
        ] {
            assert_eq!(Significant(x).to_string(), shown);
        }
    }
}
