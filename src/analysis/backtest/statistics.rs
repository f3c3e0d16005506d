//! Exception counts and the tests built on them (methodology, 12a.1 to
//! 12a.5). Throughout, `c` is the margin's confidence level, `p = 1 - c` the
//! probability of an exception under the model, `n` the number of days and
//! `x` the number of exceptions.

use super::BacktestError;
use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF};

/// A confidence level `c` strictly between 0 and 1 (0.99 for a 99% margin).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Confidence(f64);

impl Confidence {
    pub fn new(level: f64) -> Result<Self, BacktestError> {
        if level > 0.0 && level < 1.0 {
            Ok(Self(level))
        } else {
            Err(BacktestError::Confidence(level))
        }
    }

    /// `c`.
    pub fn level(self) -> f64 {
        self.0
    }

    /// `p = 1 - c`, the probability of an exception under the model.
    pub fn tail(self) -> f64 {
        1.0 - self.0
    }
}

/// `x` exceptions in `n` observations, `0 <= x <= n`, `n > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionCount {
    observations: u64,
    exceptions: u64,
}

impl ExceptionCount {
    pub fn new(observations: u64, exceptions: u64) -> Result<Self, BacktestError> {
        if observations == 0 {
            return Err(BacktestError::NoObservations);
        }
        if exceptions > observations {
            return Err(BacktestError::TooManyExceptions {
                observations,
                exceptions,
            });
        }
        Ok(Self {
            observations,
            exceptions,
        })
    }

    /// The count of a sequence of days, `true` for an exception.
    pub fn of(exceptions: &[bool]) -> Result<Self, BacktestError> {
        Self::new(
            exceptions.len() as u64,
            exceptions.iter().filter(|&&e| e).count() as u64,
        )
    }

    pub fn observations(self) -> u64 {
        self.observations
    }

    pub fn exceptions(self) -> u64 {
        self.exceptions
    }
}

/// One day of a backtest: the margin held and the loss realised over the
/// MPOR that followed, both positive amounts (losses positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayOutcome {
    pub margin: f64,
    pub realised_loss: f64,
}

impl DayOutcome {
    /// An exception is a realised loss strictly above the margin: a loss equal
    /// to the margin was covered.
    pub fn is_exception(&self) -> bool {
        self.realised_loss > self.margin
    }
}

/// The coverage of a series of days (methodology, 12a.1): the fields ISO
/// 20022 auth.066 and CPMI-IOSCO's public quantitative disclosure 6.5 ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub confidence: Confidence,
    pub observations: u64,
    pub exceptions: u64,
    /// `n p`, the exceptions the model expects.
    pub expected_exceptions: f64,
    /// `1 - x / n`, to set against `c`.
    pub achieved_coverage: f64,
    /// The largest `loss - margin` over the exceptions; `None` without one.
    pub largest_exception: Option<f64>,
    /// The mean of `loss - margin` over the exceptions; `None` without one.
    pub average_exception: Option<f64>,
    /// Whether each day was an exception, in the order given (the input of
    /// [`christoffersen`]).
    pub exception_days: Vec<bool>,
}

impl Coverage {
    /// The coverage of `days` (at least one, every amount finite). The
    /// aggregate over portfolios is the coverage of all their days together.
    pub fn of(days: &[DayOutcome], confidence: Confidence) -> Result<Self, BacktestError> {
        for (day, d) in days.iter().enumerate() {
            for (field, value) in [("margin", d.margin), ("realised loss", d.realised_loss)] {
                if !value.is_finite() {
                    return Err(BacktestError::NonFinite { day, field, value });
                }
            }
        }
        let exception_days: Vec<bool> = days.iter().map(DayOutcome::is_exception).collect();
        let count = ExceptionCount::of(&exception_days)?;
        let excesses: Vec<f64> = days
            .iter()
            .filter(|d| d.is_exception())
            .map(|d| d.realised_loss - d.margin)
            .collect();
        let n = count.observations as f64;
        Ok(Self {
            confidence,
            observations: count.observations,
            exceptions: count.exceptions,
            expected_exceptions: n * confidence.tail(),
            achieved_coverage: 1.0 - count.exceptions as f64 / n,
            largest_exception: excesses.iter().copied().reduce(f64::max),
            average_exception: (!excesses.is_empty())
                .then(|| excesses.iter().sum::<f64>() / excesses.len() as f64),
            exception_days,
        })
    }

    pub fn count(&self) -> ExceptionCount {
        ExceptionCount {
            observations: self.observations,
            exceptions: self.exceptions,
        }
    }
}

/// A likelihood-ratio statistic and its asymptotic chi-square p-value,
/// `P(chi2(dof) >= statistic)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LikelihoodRatioTest {
    /// `>= 0`; a value that rounding leaves below 0 is reported as 0.
    pub statistic: f64,
    pub degrees_of_freedom: u32,
    pub p_value: f64,
}

impl LikelihoodRatioTest {
    fn chi_square(statistic: f64, degrees_of_freedom: u32) -> Self {
        let statistic = statistic.max(0.0);
        let chi2 = ChiSquared::new(f64::from(degrees_of_freedom))
            .expect("1 and 2 degrees of freedom are valid");
        Self {
            statistic,
            degrees_of_freedom,
            p_value: chi2.sf(statistic),
        }
    }
}

/// `a ln(a / b)` with `0 ln 0 = 0`: a count of zero contributes nothing,
/// whatever its (possibly undefined) estimated probability.
fn x_ln_ratio(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else {
        a * (a / b).ln()
    }
}

/// Kupiec's (1995) proportion-of-failures test that the exception rate is
/// `p = 1 - c` (methodology, 12a.2):
///
/// ```text
/// LR_pof = -2 ln[ (1-p)^(n-x) p^x / ((1-x/n)^(n-x) (x/n)^x) ]
///        = 2 [ (n-x) ln((1 - x/n) / (1-p)) + x ln((x/n) / p) ]   ~ chi2(1)
/// ```
///
/// evaluated in the second form, which has no cancellation when `x/n` is
/// close to `p`. With `0 ln 0 = 0`, `x = 0` gives `-2 n ln(1-p)` and `x = n`
/// gives `-2 n ln p`.
pub fn kupiec_pof(count: ExceptionCount, confidence: Confidence) -> LikelihoodRatioTest {
    let n = count.observations as f64;
    let x = count.exceptions as f64;
    let p = confidence.tail();
    let statistic = 2.0 * (x_ln_ratio(n - x, n * (1.0 - p)) + x_ln_ratio(x, n * p));
    LikelihoodRatioTest::chi_square(statistic, 1)
}

/// The day-to-day transitions of an exception sequence: `n_ij` counts the
/// days `t >= 2` with `I_(t-1) = i` and `I_t = j` (1 = exception). A sequence
/// of `n` days has `n - 1` transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transitions {
    pub n00: u64,
    pub n01: u64,
    pub n10: u64,
    pub n11: u64,
}

impl Transitions {
    pub fn of(exceptions: &[bool]) -> Self {
        let mut t = Self {
            n00: 0,
            n01: 0,
            n10: 0,
            n11: 0,
        };
        for pair in exceptions.windows(2) {
            match (pair[0], pair[1]) {
                (false, false) => t.n00 += 1,
                (false, true) => t.n01 += 1,
                (true, false) => t.n10 += 1,
                (true, true) => t.n11 += 1,
            }
        }
        t
    }
}

/// Christoffersen's (1998) tests of an exception sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Christoffersen {
    pub transitions: Transitions,
    /// `LR_ind`, chi2(1): is an exception as likely after an exception as
    /// after a covered day?
    pub independence: LikelihoodRatioTest,
    /// `LR_cc = LR_pof + LR_ind`, chi2(2): the right rate, independently.
    pub conditional_coverage: LikelihoodRatioTest,
}

/// Christoffersen's (1998) independence and conditional-coverage tests
/// (methodology, 12a.3). With `pi_01 = n01 / (n00 + n01)`, `pi_11 = n11 /
/// (n10 + n11)` and `pi = (n01 + n11) / N`, `N = n00 + n01 + n10 + n11`:
///
/// ```text
/// LR_ind = -2 ln[ (1-pi)^(n00+n10) pi^(n01+n11)
///                 / ((1-pi_01)^n00 pi_01^n01 (1-pi_11)^n10 pi_11^n11) ]
///        = 2 sum_ij n_ij ln( n_ij N / (row_i col_j) )      ~ chi2(1)
/// LR_cc  = LR_pof + LR_ind                                  ~ chi2(2)
/// ```
///
/// The second form, the G statistic of the 2x2 table of transitions (row_i =
/// n_i0 + n_i1, col_j = n_0j + n_1j), is the one evaluated. Zero counts follow
/// `0 ln 0 = 0`: a zero cell contributes nothing, so a row with no transitions
/// (`n00 + n01 = 0`: every day before the last an exception; `n10 + n11 = 0`:
/// no exception before the last day) has likelihood 1 under both hypotheses
/// and `LR_ind` compares the other row alone, which gives 0. No transitions
/// at all (one day) also gives `LR_ind = 0`: no evidence of clustering.
/// `LR_pof` is taken over all `n` days, not the `n - 1` transitions
/// (Christoffersen conditions on the first day, so his `LR_cc` differs from
/// this one by the first day's contribution only).
pub fn christoffersen(
    exceptions: &[bool],
    confidence: Confidence,
) -> Result<Christoffersen, BacktestError> {
    let count = ExceptionCount::of(exceptions)?;
    let transitions = Transitions::of(exceptions);
    let Transitions { n00, n01, n10, n11 } = transitions;
    let [n00, n01, n10, n11] = [n00, n01, n10, n11].map(|c| c as f64);
    let total = n00 + n01 + n10 + n11;
    let (row0, row1) = (n00 + n01, n10 + n11);
    let (col0, col1) = (n00 + n10, n01 + n11);
    let g = |cell: f64, row: f64, col: f64| x_ln_ratio(cell, row * col / total);
    let statistic =
        2.0 * (g(n00, row0, col0) + g(n01, row0, col1) + g(n10, row1, col0) + g(n11, row1, col1));
    let independence = LikelihoodRatioTest::chi_square(statistic, 1);
    let pof = kupiec_pof(count, confidence);
    Ok(Christoffersen {
        transitions,
        independence,
        conditional_coverage: LikelihoodRatioTest::chi_square(
            pof.statistic + independence.statistic,
            2,
        ),
    })
}

/// The Basel traffic-light zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Green,
    Yellow,
    Red,
}

/// Where an exception count falls among the Basel zones (methodology, 12a.4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficLight {
    pub zone: Zone,
    /// `P(X <= x)`, `X ~ Binomial(n, p)`.
    pub cumulative_probability: f64,
    /// The largest green count.
    pub green_max: u64,
    /// The largest yellow count; `None` where no count is yellow (so few days
    /// that the first count after the green ones is already red).
    pub yellow_max: Option<u64>,
}

/// A count whose cumulative probability reaches this is at least yellow.
const YELLOW_FROM: f64 = 0.95;
/// A count whose cumulative probability reaches this is red.
const RED_FROM: f64 = 0.9999;

/// The Basel Committee's (1996) traffic light for any number of days and
/// confidence: with `X ~ Binomial(n, p)` and `F` its CDF, count `x` is
///
/// ```text
/// green  if F(x) <  0.95   (and always for x = 0)
/// yellow if 0.95 <= F(x) < 0.9999
/// red    if F(x) >= 0.9999
/// ```
///
/// BCBS: the yellow (red) zone "begins at the point such that the
/// probability of obtaining that number or fewer exceptions equals or
/// exceeds 95% (99.99%)", which for 250 days at 99% gives 0-4 green, 5-9
/// yellow, 10+ red. Zero exceptions is green by fiat: with `n <= ln 0.95 /
/// ln c` days (5 at 99%) even `F(0) >= 0.95`, and a clean record is no
/// evidence against a model.
pub fn traffic_light(count: ExceptionCount, confidence: Confidence) -> TrafficLight {
    let n = count.observations;
    let binomial =
        Binomial::new(confidence.tail(), n).expect("p = 1 - c is in (0, 1) for a valid confidence");
    let cdf = |x: u64| binomial.cdf(x);
    let mut green_max = 0;
    while green_max < n && cdf(green_max + 1) < YELLOW_FROM {
        green_max += 1;
    }
    // F(n) = 1, so the search ends by n.
    let mut red_min = green_max + 1;
    while red_min < n && cdf(red_min) < RED_FROM {
        red_min += 1;
    }
    let x = count.exceptions;
    TrafficLight {
        zone: if x <= green_max {
            Zone::Green
        } else if x < red_min {
            Zone::Yellow
        } else {
            Zone::Red
        },
        cumulative_probability: cdf(x),
        green_max,
        yellow_max: (red_min > green_max + 1).then(|| red_min - 1),
    }
}

/// Every `mpor_days`-th day from `offset` (`offset < mpor_days`): the
/// subsample whose MPOR windows do not overlap (methodology, 12a.5).
///
/// A realised loss over an `h`-day MPOR taken every day shares `h - 1` days
/// with the next one, so exceptions cluster even under a correct model: the
/// counts stay unbiased, but the tests above assume independent days and
/// reject too often. clearstress reports both, and corrects nothing: the
/// tests on all days (more data, p-values too small) and the same tests on
/// this subsample (valid, with `1/h` of the data). `offset` chooses which of
/// the `h` subsamples; a caller may report each.
pub fn non_overlapping<T: Clone>(
    days: &[T],
    mpor_days: usize,
    offset: usize,
) -> Result<Vec<T>, BacktestError> {
    if mpor_days == 0 {
        return Err(BacktestError::ZeroMpor);
    }
    if offset >= mpor_days {
        return Err(BacktestError::Offset { offset, mpor_days });
    }
    Ok(days
        .iter()
        .skip(offset)
        .step_by(mpor_days)
        .cloned()
        .collect())
}
