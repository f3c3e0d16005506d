//! The statistics of a [`Backtest`]: per portfolio and pooled per kind, on
//! all days and on the non-overlapping subsample (every MPOR-th day, from
//! the first), side by side (methodology, sections 12a and 12b).

use super::day_loop::{Backtest, Portfolio, PortfolioKind};
use super::{
    acerbi_szekely_z2, christoffersen, kupiec_pof, non_overlapping, traffic_light, BacktestError,
    Christoffersen, Confidence, Coverage, DayOutcome, EsDay, LikelihoodRatioTest, TrafficLight,
    Z2Distribution,
};
use crate::snapshot::MarginMeasure;

/// The tests on one sample of days.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleStatistics {
    pub coverage: Coverage,
    pub kupiec: LikelihoodRatioTest,
    /// `None` for a pooled aggregate: the test reads one series of days.
    pub christoffersen: Option<Christoffersen>,
    pub traffic_light: TrafficLight,
}

/// Acerbi and Székely's Z2 for a portfolio whose margin is an ES.
#[derive(Debug, Clone, PartialEq)]
pub enum Z2 {
    /// The margin is a VaR, or the portfolio is a group or an aggregate
    /// (the ES of a sum is not the sum of the ES).
    NotApplicable,
    /// The statistic on all days, and for members with collateral its
    /// p-value from Z2 simulated on losses drawn from each day's model.
    Statistic {
        value: f64,
        p_value: Option<f64>,
        simulations: usize,
    },
    /// The input it could not be computed on (an ES of 0, say).
    NotComputed(BacktestError),
}

/// One row of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioSummary {
    /// The member's or group's id; `all` for the pooled aggregate of a kind.
    pub id: String,
    pub kind: PortfolioKind,
    /// Pooled over every portfolio of its kind (observations and exceptions
    /// summed, as if the portfolios' days were independent).
    pub aggregate: bool,
    pub all_days: SampleStatistics,
    pub non_overlapping: SampleStatistics,
    pub z2: Z2,
    /// The mean margin over the days, USD; a pooled row's is the mean over
    /// its portfolios' days.
    pub average_margin: f64,
    /// The margin's largest fall from a running peak ([`peak_to_trough`]); a
    /// pooled row's is that of its portfolios' summed margin.
    pub margin_peak_to_trough: f64,
}

/// The id of a kind's pooled row.
pub const AGGREGATE_ID: &str = "all";

/// Every portfolio's statistics, then each kind's pooled aggregate.
pub fn summarise(backtest: &Backtest) -> Result<Vec<PortfolioSummary>, BacktestError> {
    let confidence = Confidence::new(backtest.confidence)?;
    let mpor = backtest.mpor_days as usize;
    let mut rows = Vec::new();
    for p in &backtest.portfolios {
        let days = outcomes(p);
        let z2 = match (backtest.measure, p.es_days()) {
            (MarginMeasure::ExpectedShortfall, Some(es)) => {
                match z2_test(&es, p.simulated.as_deref(), confidence) {
                    Ok(z) => z,
                    Err(e) => Z2::NotComputed(e),
                }
            }
            _ => Z2::NotApplicable,
        };
        rows.push(PortfolioSummary {
            id: p.id.clone(),
            kind: p.kind,
            aggregate: false,
            all_days: statistics(&days, confidence, true)?,
            non_overlapping: statistics(&non_overlapping(&days, mpor, 0)?, confidence, true)?,
            z2,
            average_margin: mean(&p.margins),
            margin_peak_to_trough: peak_to_trough(&p.margins),
        });
    }
    for kind in PortfolioKind::ALL {
        let of_kind: Vec<&Portfolio> = backtest
            .portfolios
            .iter()
            .filter(|p| p.kind == kind)
            .collect();
        if of_kind.is_empty() {
            continue;
        }
        let mut all = Vec::new();
        let mut sub = Vec::new();
        let mut total = vec![0.0; backtest.dates.len()];
        let count = of_kind.len() as f64;
        for p in of_kind {
            for (sum, margin) in total.iter_mut().zip(&p.margins) {
                *sum += margin;
            }
            let days = outcomes(p);
            sub.extend(non_overlapping(&days, mpor, 0)?);
            all.extend(days);
        }
        rows.push(PortfolioSummary {
            id: AGGREGATE_ID.into(),
            kind,
            aggregate: true,
            all_days: statistics(&all, confidence, false)?,
            non_overlapping: statistics(&sub, confidence, false)?,
            z2: Z2::NotApplicable,
            average_margin: mean(&total) / count,
            margin_peak_to_trough: peak_to_trough(&total),
        });
    }
    Ok(rows)
}

/// The largest fall of `margins` from its running peak, as a fraction of the
/// peak: `max_t (1 - M_t / max_{s <= t} M_s)`, over the days whose running
/// peak is above 0 (0 when there is none). In `[0, 1]` for margins at or
/// above 0; a drawdown, not `procyclicality`'s ratio of the largest margin
/// to the smallest (methodology, 12b).
pub fn peak_to_trough(margins: &[f64]) -> f64 {
    let mut peak = 0.0_f64;
    let mut fall = 0.0_f64;
    for &m in margins {
        peak = peak.max(m);
        if peak > 0.0 {
            fall = fall.max(1.0 - m / peak);
        }
    }
    fall
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Z2 on `days`, with its p-value when the model's draws are there.
fn z2_test(
    days: &[EsDay],
    simulated: Option<&[Vec<f64>]>,
    confidence: Confidence,
) -> Result<Z2, BacktestError> {
    let value = acerbi_szekely_z2(days, confidence)?;
    let Some(simulated) = simulated else {
        return Ok(Z2::Statistic {
            value,
            p_value: None,
            simulations: 0,
        });
    };
    let count = simulated.first().map_or(0, Vec::len);
    let reference = Z2Distribution::simulate(days, confidence, count, |i, t| simulated[t][i])?;
    Ok(Z2::Statistic {
        value,
        p_value: Some(reference.p_value(value)),
        simulations: count,
    })
}

fn outcomes(p: &Portfolio) -> Vec<DayOutcome> {
    p.margins
        .iter()
        .zip(&p.losses)
        .map(|(&margin, &realised_loss)| DayOutcome {
            margin,
            realised_loss,
        })
        .collect()
}

/// Coverage, Kupiec, Christoffersen (on one series only) and the traffic light.
fn statistics(
    days: &[DayOutcome],
    confidence: Confidence,
    one_series: bool,
) -> Result<SampleStatistics, BacktestError> {
    let coverage = Coverage::of(days, confidence)?;
    let count = coverage.count();
    let christoffersen = if one_series {
        Some(christoffersen(&coverage.exception_days, confidence)?)
    } else {
        None
    };
    Ok(SampleStatistics {
        kupiec: kupiec_pof(count, confidence),
        traffic_light: traffic_light(count, confidence),
        christoffersen,
        coverage,
    })
}
