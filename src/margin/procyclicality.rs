//! Anti-procyclicality (APC) tools of EMIR's RTS 153/2013, Article 28, applied
//! to a series of initial margins, and the measures that show their effect.
//!
//! - Buffer (28(1)(a)): margin is collected with a 25% buffer that may be used
//!   up while calculated margins rise: `IM_t = max(B_t, min((1 + b) B_t,
//!   IM_{t-1}))`, starting at `(1 + b) B_0`. A rise in the calculated margin B
//!   first eats the buffer instead of calling for more.
//! - Stressed weight (28(1)(b)): at least 25% weight on stressed observations:
//!   `IM_t = (1 - w) B_t + w S_t`, S the margin under stressed parameters.
//! - Floor (28(1)(c)): margins no lower than under a 10-year volatility:
//!   `IM_t = max(B_t, F_t)`.
//!
//! Measures (ESMA, "Guidelines on EMIR Anti-Procyclicality Margin Measures",
//! 2018): the peak-to-trough ratio of the series, and its largest increase over
//! any window of n days.

use crate::input::Date;

/// One of the tools, applied to a run's margins at the valuation date
/// (`crate::analysis::apc`), each at EMIR's minimum: a 25% buffer, 25% weight
/// on stressed volatilities, or a floor at the 10-year volatility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApcTool {
    Buffer,
    StressedWeight,
    Floor,
}

impl ApcTool {
    /// EMIR's minimum buffer and stressed weight.
    pub const SHARE: f64 = 0.25;

    /// What the tool does, for a reader.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Buffer => "a 25% APC buffer",
            Self::StressedWeight => "25% APC weight on stressed volatilities",
            Self::Floor => "an APC floor at the 10-year-volatility margin",
        }
    }
}

/// The buffered margin series for calculated margins `base` and buffer `b`.
pub fn buffered(base: &[f64], buffer: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(base.len());
    for (t, &b) in base.iter().enumerate() {
        let im = if t == 0 {
            (1.0 + buffer) * b
        } else {
            b.max(((1.0 + buffer) * b).min(out[t - 1]))
        };
        out.push(im);
    }
    out
}

/// `(1 - weight) base + weight stressed`, term by term.
pub fn stressed_weighted(base: &[f64], stressed: &[f64], weight: f64) -> Vec<f64> {
    base.iter()
        .zip(stressed)
        .map(|(b, s)| (1.0 - weight) * b + weight * s)
        .collect()
}

/// `max(base, floor)`, term by term.
pub fn floored(base: &[f64], floor: &[f64]) -> Vec<f64> {
    base.iter().zip(floor).map(|(b, f)| b.max(*f)).collect()
}

/// The period whose realised volatilities are the stressed ones, inclusive
/// (see `crate::analysis::apc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StressPeriod {
    pub from: Date,
    pub to: Date,
}

/// The calendar year 2022: the crypto bear market of Terra/LUNA (May) and FTX
/// (November), which every shipped asset traded through.
impl Default for StressPeriod {
    fn default() -> Self {
        let day = |m, d| Date::from_ymd(2022, m, d).expect("a date of 2022");
        Self {
            from: day(1, 1),
            to: day(12, 31),
        }
    }
}

/// A tool as applied to a run's margins.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AppliedApc {
    pub tool: ApcTool,
    /// The stressed-weight tool's stress period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stress_period: Option<StressPeriod>,
    /// Assets that kept today's volatility in the stressed market (too few
    /// returns in the stress period).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_stressed: Vec<String>,
}

/// How procyclical a margin series is.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Procyclicality {
    /// Largest margin over smallest.
    pub peak_to_trough: f64,
    /// Largest relative increase from a date to one at most `window_days` later.
    pub largest_increase: f64,
    pub window_days: u32,
    /// Where that increase starts and ends.
    pub increase_from: Date,
    pub increase_to: Date,
}

/// Why a margin series has no procyclicality measures: ratios need margins
/// above zero on every date.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum NotMeasurable {
    #[error("no margin dates")]
    Empty,
    #[error("the margin on {date} is {margin}, and ratios of margins need every margin above 0")]
    NotPositive { date: Date, margin: f64 },
}

/// The measures of `series` over `dates` (ascending), with increases over at
/// most `window_days` calendar days.
pub fn procyclicality(
    dates: &[Date],
    series: &[f64],
    window_days: u32,
) -> Result<Procyclicality, NotMeasurable> {
    if series.is_empty() {
        return Err(NotMeasurable::Empty);
    }
    if let Some((&date, &margin)) = dates
        .iter()
        .zip(series)
        .find(|(_, &x)| x.is_nan() || x <= 0.0)
    {
        return Err(NotMeasurable::NotPositive { date, margin });
    }
    let max = series.iter().copied().fold(f64::MIN, f64::max);
    let min = series.iter().copied().fold(f64::MAX, f64::min);
    let mut best = (0.0, 0, 0);
    for i in 0..series.len() {
        for j in i + 1..series.len() {
            if dates[j].days_since_epoch() - dates[i].days_since_epoch() > window_days as i32 {
                break;
            }
            let increase = series[j] / series[i] - 1.0;
            if increase > best.0 {
                best = (increase, i, j);
            }
        }
    }
    Ok(Procyclicality {
        peak_to_trough: max / min,
        largest_increase: best.0,
        window_days,
        increase_from: dates[best.1],
        increase_to: dates[best.2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_absorbs_a_rise_before_margins_go_up() {
        // Calculated margin doubles on day 2 then falls back.
        let base = [100.0, 110.0, 200.0, 120.0, 100.0];
        let im = buffered(&base, 0.25);
        // 125, then min(137.5, 125) = 125 (buffer absorbs), then 200 (exhausted),
        // then min(150, 200) = 150, then min(125, 150) = 125.
        assert_eq!(im, vec![125.0, 125.0, 200.0, 150.0, 125.0]);
        assert!(im.iter().zip(&base).all(|(i, b)| i >= b));
    }

    #[test]
    fn measures_follow_their_definitions() {
        let dates: Vec<Date> = (0..5)
            .map(|d| Date::parse("2024-01-01").unwrap().add_days(7 * d))
            .collect();
        let series = [100.0, 120.0, 90.0, 180.0, 150.0];
        let p = procyclicality(&dates, &series, 14).unwrap();
        assert_eq!(p.peak_to_trough, 2.0);
        // Within 14 days: 90 -> 180 (+100%) beats 100 -> 120.
        assert!((p.largest_increase - 1.0).abs() < 1e-15);
        assert_eq!((p.increase_from, p.increase_to), (dates[2], dates[3]));
        // Within 7 days the same pair; the floor and weight rules are term by term.
        assert_eq!(floored(&[1.0, 5.0], &[3.0, 3.0]), vec![3.0, 5.0]);
        assert_eq!(stressed_weighted(&[100.0], &[200.0], 0.25), vec![125.0]);
        assert_eq!(
            procyclicality(&dates, &[1.0, 0.0, 1.0, 1.0, 1.0], 7),
            Err(NotMeasurable::NotPositive {
                date: dates[1],
                margin: 0.0
            })
        );
    }
}
