//! Acerbi and Székely's (2014) Z2 test of Expected Shortfall margins
//! (methodology, 12a.6), in clearstress's convention: losses positive, VaR
//! and ES positive amounts.
//!
//! Acerbi and Székely write P&L `X_t` (a loss is negative) and positive
//! `VaR_t`, `ES_t`:
//!
//! ```text
//! Z2 = sum_t X_t I_t / (T alpha ES_t) + 1,   I_t = 1{X_t + VaR_t < 0}
//! ```
//!
//! With the loss `L_t = -X_t` this is
//!
//! ```text
//! Z2 = 1 - (1 / (T alpha)) sum_t L_t I_t / ES_t,   I_t = 1{L_t > VaR_t}
//! ```
//!
//! the same number: `E[Z2] = 0` when the model is right (given VaR_t is the
//! model's quantile), `Z2 < 0` when the realised tail is heavier than the
//! ES said, and the test rejects in the lower tail. `alpha = 1 - c` for an ES
//! at confidence `c` (0.025 at 97.5%). The statistic's distribution depends
//! on the model, so its p-value comes from Z2 recomputed on loss paths drawn
//! from the model ([`Z2Distribution`]), as Acerbi and Székely prescribe.

use super::{BacktestError, Confidence};

/// One day of an ES backtest: the model's VaR and ES at the same confidence
/// (the ES is the margin) and the loss realised over the MPOR, losses
/// positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EsDay {
    pub var: f64,
    pub es: f64,
    pub realised_loss: f64,
}

fn check_forecasts(days: &[EsDay]) -> Result<(), BacktestError> {
    if days.is_empty() {
        return Err(BacktestError::NoObservations);
    }
    for (day, d) in days.iter().enumerate() {
        for (field, value) in [("VaR", d.var), ("ES", d.es)] {
            if !value.is_finite() {
                return Err(BacktestError::NonFinite { day, field, value });
            }
        }
        if d.es <= 0.0 {
            return Err(BacktestError::NonPositiveEs { day, es: d.es });
        }
    }
    Ok(())
}

/// Z2 of days already checked, with the loss of day `t` from `loss(t)`.
fn z2_of(
    days: &[EsDay],
    alpha: f64,
    mut loss: impl FnMut(usize) -> Result<f64, BacktestError>,
) -> Result<f64, BacktestError> {
    let mut sum = 0.0;
    for (t, d) in days.iter().enumerate() {
        let l = loss(t)?;
        if l > d.var {
            sum += l / d.es;
        }
    }
    Ok(1.0 - sum / (days.len() as f64 * alpha))
}

fn finite_loss(day: usize, field: &'static str, value: f64) -> Result<f64, BacktestError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(BacktestError::NonFinite { day, field, value })
    }
}

/// `Z2 = 1 - (1 / (T alpha)) sum_t L_t 1{L_t > VaR_t} / ES_t` over `days`
/// (at least one; VaR, ES and loss finite; ES positive), `alpha = 1 - c`.
pub fn acerbi_szekely_z2(days: &[EsDay], confidence: Confidence) -> Result<f64, BacktestError> {
    check_forecasts(days)?;
    z2_of(days, confidence.tail(), |t| {
        finite_loss(t, "realised loss", days[t].realised_loss)
    })
}

/// Z2 simulated under the model: the reference distribution of the test.
#[derive(Debug, Clone, PartialEq)]
pub struct Z2Distribution {
    /// Ascending.
    sorted: Vec<f64>,
}

/// A Z2 and where it falls in the simulated distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EsBacktest {
    pub statistic: f64,
    /// `P(Z2 <= statistic)` under the model, estimated from the simulations.
    pub p_value: f64,
    pub simulations: usize,
}

impl Z2Distribution {
    /// From Z2 values already simulated (at least one, each finite).
    pub fn new(mut simulated: Vec<f64>) -> Result<Self, BacktestError> {
        if simulated.is_empty() {
            return Err(BacktestError::NoSimulations);
        }
        if let Some((index, &value)) = simulated.iter().enumerate().find(|(_, z)| !z.is_finite()) {
            return Err(BacktestError::NonFiniteSimulation { index, value });
        }
        simulated.sort_by(f64::total_cmp);
        Ok(Self { sorted: simulated })
    }

    /// Z2 of `simulations` loss paths drawn from the model: path `i` has loss
    /// `draw(i, t)` on day `t`, judged against the same days' VaR and ES (the
    /// realised losses of `days` are not used). `draw` is where the day loop
    /// supplies the model's draws.
    pub fn simulate(
        days: &[EsDay],
        confidence: Confidence,
        simulations: usize,
        mut draw: impl FnMut(usize, usize) -> f64,
    ) -> Result<Self, BacktestError> {
        check_forecasts(days)?;
        let simulated = (0..simulations)
            .map(|i| {
                z2_of(days, confidence.tail(), |t| {
                    finite_loss(t, "simulated loss", draw(i, t))
                })
            })
            .collect::<Result<Vec<f64>, _>>()?;
        Self::new(simulated)
    }

    pub fn simulations(&self) -> usize {
        self.sorted.len()
    }

    /// `#{i : Z2_i <= z2} / M`, the share of simulated values at or below
    /// `z2`. Acerbi and Székely count `Z2_i < z2`; the two differ only on
    /// ties, which Z2 has (every path without an exception gives exactly 1),
    /// and `<=` is the conservative one.
    pub fn p_value(&self, z2: f64) -> f64 {
        let at_or_below = self.sorted.partition_point(|&z| z <= z2);
        at_or_below as f64 / self.sorted.len() as f64
    }

    /// The critical value `kappa_s` at significance `s` in (0, 1): the
    /// `ceil(s M)`-th smallest simulated value. `Z2 < kappa_s` exactly when
    /// [`Self::p_value`] `< s`: the test rejects at level `s`.
    pub fn critical_value(&self, significance: f64) -> Result<f64, BacktestError> {
        if !(significance > 0.0 && significance < 1.0) {
            return Err(BacktestError::Significance(significance));
        }
        // s > 0 and M >= 1 make k >= 1; s < 1 makes k <= M.
        let k = (significance * self.sorted.len() as f64).ceil() as usize;
        Ok(self.sorted[k - 1])
    }

    /// Z2 of the realised `days` and its p-value.
    pub fn test(
        &self,
        days: &[EsDay],
        confidence: Confidence,
    ) -> Result<EsBacktest, BacktestError> {
        let statistic = acerbi_szekely_z2(days, confidence)?;
        Ok(EsBacktest {
            statistic,
            p_value: self.p_value(statistic),
            simulations: self.simulations(),
        })
    }
}
