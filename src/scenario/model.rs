//! The Monte Carlo scenario model: correlated, fat-tailed log returns over the
//! margin period of risk, with market-wide jumps and implied-vol shocks.
//!
//! Over `T` steps of `dt = h / T` years, asset a's log return in step t is
//!
//! ```text
//! r_a,t = mu_a dt + sigma_a sqrt(dt) e_a,t + J_a,t
//! e_t   = L z_t                                   (Gaussian)
//! e_t   = L z_t sqrt((nu - 2) / W_t),  W_t ~ chi^2_nu  (Student-t, unit variance)
//! e_t   = L z_t sqrt(V_t),  V_t ~ IG(1, lambda)         (NIG, unit variance)
//! J_a,t = N_t m_a + sqrt(N_t) s_a (L y_t)_a,  N_t ~ Poisson(lambda dt)
//! mu_a  = -sigma_a^2 / 2 - lambda (exp(m_a + s_a^2 / 2) - 1)
//! ```
//!
//! with `L` the Cholesky factor of the correlation matrix and `z_t`, `y_t` standard
//! normals. The drift makes every price a martingale over the horizon (no
//! directional view in a margin model). Under NIG innovations the diffusion
//! term of the drift is the exact `-ln E[exp(s e)] = -s^2 / (1 + sqrt(1 -
//! s^2 / lambda))`, `s = sigma_a sqrt(dt)`, finite for `s^2 < lambda`; under
//! Student-t innovations `E[exp(s e)]` is infinite and the Gaussian `-s^2 / 2`
//! stands in (docs/methodology.md, 4.2). The NIG's mixing variable `V_t` is
//! inverse Gaussian with mean 1 and shape lambda (Barndorff-Nielsen 1997),
//! drawn from one normal and one uniform by Michael, Schucany and Haas
//! ("Generating random variates using transformations with multiple roots",
//! American Statistician 30, 1976). The multivariate t draws one mixing variable
//! per step for all assets (tail dependence: crypto falls together); W_t is the sum
//! of nu squared normals, so nu is an integer and a scenario uses a fixed count of
//! random numbers whatever its values, which a GPU can reproduce. Jumps are
//! market-wide (one count per step), with sizes in units of each asset's daily vol
//! so that a stablecoin does not jump like an altcoin (Merton, "Option pricing when
//! underlying stock returns are discontinuous", J. Financial Economics 3, 1976).
//!
//! The implied vol of underlying a moves by the factor
//! `v_a = exp(xi sqrt(h) (rho zbar_a + sqrt(1 - rho^2) u_a))` where
//! `zbar_a = sum_t e_a,t / sqrt(T)` is the asset's standardised diffusion move and
//! `u_a` an independent normal: crypto vol rises when prices fall (rho < 0).

use super::draws::{self, DrawMemo, Fresh, Layout, Replay, Source};
use super::historical::FilteredHistory;
use crate::linalg::{cholesky_psd, NotPsd};
use crate::pricing::DAYS_PER_YEAR;
use crate::rng::{ScenarioRng, MAX_BLOCKS_PER_STREAM};
use crate::snapshot::{Innovations, MarketData, RiskConfig, ScenarioConfig};

/// Why a scenario model cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("the correlation matrix is not positive semi-definite: pivot {pivot:.3e} at asset `{asset}`")]
    NotPsd { asset: String, pivot: f64 },
    #[error("{parameter} = {value} is out of range: expected {expected}")]
    OutOfRange {
        parameter: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("{assets} assets exceed the {max} a scenario stream can address")]
    TooManyAssets { assets: usize, max: usize },
    #[error(
        "asset `{asset}` has no column in the history {history}, and a historical scenario needs \
         every asset the book depends on (the embedded sample's synthetic altcoins have none): use \
         a book of real assets, e.g. `clearstress init --out DIR --assets 10`, or a history with \
         that column"
    )]
    NoHistory { asset: String, history: String },
    #[error(
        "asset `{asset}`: a step's volatility {step_vol:.4} (sigma sqrt(dt)) is not below the square \
         root of the NIG shape {shape}: the price would have no finite expectation; take more steps, \
         a shorter margin period or a larger shape"
    )]
    NoExponentialMoment {
        asset: String,
        step_vol: f64,
        shape: f64,
    },
    #[error("filtered historical simulation on {history}, window {from}..{to}: {asset}: {returns} usable daily returns, too few (at least 30 after the EWMA seed): {reason}")]
    ShortHistory {
        history: String,
        asset: String,
        returns: usize,
        from: crate::input::Date,
        to: crate::input::Date,
        /// Why the window is short, in the history's own dates.
        reason: String,
    },
}

/// Market-wide Merton jumps, per step.
#[derive(Debug, Clone, PartialEq)]
pub struct Jumps {
    /// Expected jumps per step, lambda dt.
    pub per_step: f64,
    /// Mean log jump per asset, m_a.
    pub mean: Vec<f64>,
    /// Standard deviation of the log jump per asset, s_a.
    pub stdev: Vec<f64>,
}

/// A validated scenario model. Building it is the only step that can fail;
/// drawing a scenario cannot.
#[derive(Debug, Clone)]
pub struct ScenarioModel {
    rng: ScenarioRng,
    assets: usize,
    steps: u32,
    /// sigma_a sqrt(dt).
    step_vol: Vec<f64>,
    /// mu_a dt.
    step_drift: Vec<f64>,
    /// Lower-triangular Cholesky factor L, row-major.
    cholesky: Vec<f64>,
    /// L transposed (column j of L contiguous): `correlate` runs down columns so
    /// that its inner loop is an independent, vectorisable multiply-add.
    cholesky_columns: Vec<f64>,
    dof: Option<u32>,
    /// Shape lambda of the NIG innovations' inverse-Gaussian mixing variable.
    nig_shape: Option<f64>,
    jumps: Option<Jumps>,
    /// xi sqrt(h) and rho of the vol shock.
    vol_shock_scale: f64,
    spot_vol_correlation: f64,
    /// Assets whose implied vol is needed (option underlyings): only they draw a
    /// vol shock, the others keep a factor of 1.
    vol_assets: Vec<usize>,
    /// Filtered historical simulation in place of the parametric diffusion,
    /// jumps and innovations.
    historical: Option<FilteredHistory>,
}

impl ScenarioModel {
    /// Builds the model for `market` over the configured horizon. `vol_assets` are
    /// the option underlyings whose implied vols are shocked. `risk` and
    /// `config` are in range ([`CcpConfig::validate`](crate::snapshot::CcpConfig::validate)
    /// is the one check of them); what is checked here depends on the market:
    /// the number of assets, the correlation matrix and the NIG's exponential
    /// moment.
    pub fn new(
        market: &MarketData,
        risk: &RiskConfig,
        config: &ScenarioConfig,
        vol_assets: Vec<usize>,
    ) -> Result<Self, ModelError> {
        let n = market.assets.len();
        if n > 4 * MAX_BLOCKS_PER_STREAM as usize {
            return Err(ModelError::TooManyAssets {
                assets: n,
                max: 4 * MAX_BLOCKS_PER_STREAM as usize,
            });
        }
        let rho = config.vol_shock.spot_vol_correlation;
        let dof = (config.innovations == Innovations::StudentT).then_some(config.dof);
        let nig_shape = (config.innovations == Innovations::Nig).then_some(config.nig_shape);
        let cholesky =
            cholesky_psd(&market.correlation, n, 1e-10).map_err(|NotPsd { index, pivot }| {
                ModelError::NotPsd {
                    asset: market.assets[index].id.clone(),
                    pivot,
                }
            })?;

        let horizon = risk.margin_period_days / DAYS_PER_YEAR;
        let dt = horizon / f64::from(risk.steps);
        let daily = |a: usize| market.assets[a].volatility / DAYS_PER_YEAR.sqrt();
        let jumps = config.jumps.as_ref().map(|j| Jumps {
            per_step: j.intensity_per_year * dt,
            mean: (0..n).map(|a| j.mean_sigmas * daily(a)).collect(),
            stdev: (0..n).map(|a| j.stdev_sigmas * daily(a)).collect(),
        });
        let step_drift = (0..n)
            .map(|a| {
                let sigma = market.assets[a].volatility;
                let compensator = jumps.as_ref().map_or(0.0, |j| {
                    j.per_step * ((j.mean[a] + 0.5 * j.stdev[a] * j.stdev[a]).exp() - 1.0)
                });
                let s2 = sigma * sigma * dt;
                let diffusion = match nig_shape {
                    Some(lambda) if s2 >= lambda => {
                        return Err(ModelError::NoExponentialMoment {
                            asset: market.assets[a].id.clone(),
                            step_vol: s2.sqrt(),
                            shape: lambda,
                        })
                    }
                    Some(lambda) => s2 / (1.0 + (1.0 - s2 / lambda).sqrt()),
                    None => 0.5 * s2,
                };
                Ok(-diffusion - compensator)
            })
            .collect::<Result<_, _>>()?;
        let mut cholesky_columns = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                cholesky_columns[j * n + i] = cholesky[i * n + j];
            }
        }
        Ok(Self {
            rng: ScenarioRng::new(config.seed),
            cholesky_columns,
            assets: n,
            steps: risk.steps,
            step_vol: market
                .assets
                .iter()
                .map(|a| a.volatility * dt.sqrt())
                .collect(),
            step_drift,
            cholesky,
            dof,
            nig_shape,
            jumps,
            vol_shock_scale: config.vol_shock.vol_of_vol * horizon.sqrt(),
            spot_vol_correlation: rho,
            vol_assets,
            historical: None,
        })
    }

    /// The same model drawing its moves by filtered historical simulation from
    /// `history` (the vol shock stays, driven by the resampled standardised move).
    pub fn with_history(mut self, history: FilteredHistory) -> Self {
        self.historical = Some(history);
        self
    }

    pub fn historical(&self) -> Option<&FilteredHistory> {
        self.historical.as_ref()
    }

    pub fn assets(&self) -> usize {
        self.assets
    }

    pub fn steps(&self) -> u32 {
        self.steps
    }

    pub fn dof(&self) -> Option<u32> {
        self.dof
    }

    /// The NIG innovations' shape, if the model draws them.
    pub fn nig_shape(&self) -> Option<f64> {
        self.nig_shape
    }

    pub fn jumps(&self) -> Option<&Jumps> {
        self.jumps.as_ref()
    }

    pub fn cholesky(&self) -> &[f64] {
        &self.cholesky
    }

    pub fn rng(&self) -> ScenarioRng {
        self.rng
    }

    /// mu_a dt per asset.
    pub fn step_drift(&self) -> &[f64] {
        &self.step_drift
    }

    /// sigma_a sqrt(dt) per asset.
    pub fn step_vol(&self) -> &[f64] {
        &self.step_vol
    }

    /// The vol shock's xi sqrt(h) and rho, and the assets it applies to
    /// (ascending).
    pub fn vol_shock(&self) -> (f64, f64, &[usize]) {
        (
            self.vol_shock_scale,
            self.spot_vol_correlation,
            &self.vol_assets,
        )
    }

    /// Draws scenario `n`: `returns[a] = S1/S0 - 1` and `vol_factors[a]`, each of
    /// length `assets()`. `scratch` only avoids allocation; its content is irrelevant.
    pub fn draw(
        &self,
        n: u64,
        scratch: &mut Scratch,
        returns: &mut [f64],
        vol_factors: &mut [f64],
    ) {
        let fresh = Fresh { rng: &self.rng, n };
        self.draw_from(n, fresh, scratch, returns, vol_factors)
    }

    /// Which random numbers a scenario of this model draws, so that they can
    /// be recorded once and replayed ([`DrawMemo`]); `None` for filtered
    /// historical simulation, whose draws are uniforms picking days of a
    /// history that changes from day to day (and cost little).
    pub fn layout(&self) -> Option<Layout> {
        if self.historical.is_some() {
            return None;
        }
        Some(Layout {
            key: self.rng.key(),
            assets: self.assets,
            steps: self.steps,
            dof: self.dof,
            nig: self.nig_shape.is_some(),
            jumps: self.jumps.is_some(),
            vol_shocks: self.vol_shock_normals(),
        })
    }

    /// Writes scenario `n`'s random numbers into `record`, of length
    /// `layout().len()` (a parametric model only).
    pub fn record(&self, n: u64, record: &mut [f64]) {
        if let Some(layout) = self.layout() {
            draws::record_into(&layout, &mut Fresh { rng: &self.rng, n }, record);
        }
    }

    /// [`Self::draw`] with scenario `n`'s random numbers read from `memo`,
    /// which must hold `n` under this model's [`Self::layout`] (the caller
    /// checks both); the same bits as drawing it afresh.
    pub fn draw_recorded(
        &self,
        memo: &DrawMemo,
        n: u64,
        scratch: &mut Scratch,
        returns: &mut [f64],
        vol_factors: &mut [f64],
    ) {
        debug_assert_eq!(self.layout().as_ref(), Some(memo.layout()));
        let replay = Replay {
            layout: memo.layout(),
            record: memo.of(n),
        };
        self.draw_from(n, replay, scratch, returns, vol_factors)
    }

    /// Normals the vol shock draws: one per asset up to the highest option
    /// underlying, none without a shock.
    fn vol_shock_normals(&self) -> usize {
        if self.vol_shock_scale > 0.0 {
            self.vol_assets.iter().max().map_or(0, |&a| a + 1)
        } else {
            0
        }
    }

    fn draw_from(
        &self,
        n: u64,
        mut source: impl Source,
        scratch: &mut Scratch,
        returns: &mut [f64],
        vol_factors: &mut [f64],
    ) {
        let a_count = self.assets;
        scratch.resize(a_count, self.dof.unwrap_or(0) as usize);
        let Scratch {
            z,
            e,
            log_return,
            diffusion,
            chi,
        } = scratch;
        log_return.fill(0.0);
        diffusion.fill(0.0);
        // Standardised diffusion moves are summed over `draws` unit-variance terms.
        let draws = match &self.historical {
            Some(history) => {
                history.draw(&self.rng, n, log_return, diffusion);
                history.horizon_days
            }
            None => {
                self.diffuse(&mut source, z, e, chi, log_return, diffusion);
                self.steps
            }
        };
        for a in 0..a_count {
            returns[a] = log_return[a].exp_m1();
        }
        vol_factors.fill(1.0);
        let shocked = self.vol_shock_normals();
        if shocked > 0 {
            let u = &mut z[..shocked];
            source.vol_shock(u);
            let rho = self.spot_vol_correlation;
            let ortho = (1.0 - rho * rho).sqrt();
            let root_draws = f64::from(draws).sqrt();
            for &a in &self.vol_assets {
                let zbar = diffusion[a] / root_draws;
                vol_factors[a] = (self.vol_shock_scale * (rho * zbar + ortho * u[a])).exp();
            }
        }
    }

    /// The parametric model's log returns and summed diffusion shocks over
    /// its steps: correlated (Student-t) diffusion and market-wide jumps.
    fn diffuse(
        &self,
        source: &mut impl Source,
        z: &mut [f64],
        e: &mut [f64],
        chi: &mut [f64],
        log_return: &mut [f64],
        diffusion: &mut [f64],
    ) {
        let a_count = self.assets;
        for step in 0..self.steps {
            source.diffusion(step, z);
            self.correlate(z, e);
            if let Some(nu) = self.dof {
                let w = source.chi_square(step, chi);
                let scale = (f64::from(nu - 2) / w).sqrt();
                e.iter_mut().for_each(|x| *x *= scale);
            }
            if let Some(lambda) = self.nig_shape {
                let (g, u) = source.inverse_gaussian(step);
                let scale = inverse_gaussian(lambda, g, u).sqrt();
                e.iter_mut().for_each(|x| *x *= scale);
            }
            for a in 0..a_count {
                diffusion[a] += e[a];
                log_return[a] += self.step_drift[a] + self.step_vol[a] * e[a];
            }
            if let Some(jumps) = &self.jumps {
                let count = poisson_inverse_cdf(jumps.per_step, source.jump_count(step));
                if count > 0 {
                    source.jump_sizes(step, z);
                    self.correlate(z, e);
                    let (k, root_k) = (f64::from(count), f64::from(count).sqrt());
                    for a in 0..a_count {
                        log_return[a] += k * jumps.mean[a] + root_k * jumps.stdev[a] * e[a];
                    }
                }
            }
        }
    }

    /// e = L z, accumulated column by column: e_i = sum_{j <= i} L_ij z_j with the
    /// terms added in order of j.
    #[inline]
    fn correlate(&self, z: &[f64], e: &mut [f64]) {
        let n = self.assets;
        e.fill(0.0);
        for (j, &zj) in z.iter().enumerate().take(n) {
            let column = &self.cholesky_columns[j * n + j..(j + 1) * n];
            for (ei, l) in e[j..].iter_mut().zip(column) {
                *ei += l * zj;
            }
        }
    }
}

/// Reusable buffers for [`ScenarioModel::draw`].
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    z: Vec<f64>,
    e: Vec<f64>,
    log_return: Vec<f64>,
    diffusion: Vec<f64>,
    chi: Vec<f64>,
}

impl Scratch {
    fn resize(&mut self, assets: usize, dof: usize) {
        self.z.resize(assets, 0.0);
        self.e.resize(assets, 0.0);
        self.log_return.resize(assets, 0.0);
        self.diffusion.resize(assets, 0.0);
        self.chi.resize(dof, 0.0);
    }
}

/// An inverse-Gaussian variate with mean 1 and shape `lambda` from a
/// standard normal `g` and a uniform `u` (Michael, Schucany and Haas 1976):
/// `x` is the smaller root of `lambda (x - 1)^2 / x = g^2`, taken with
/// probability `1 / (1 + x)`, else `1 / x`. The root is written as
/// `1 - 2y / (y + sqrt(y^2 + 4 lambda y))`, `y = g^2`, which loses no digits
/// where `y` is large.
#[inline]
pub fn inverse_gaussian(lambda: f64, g: f64, u: f64) -> f64 {
    let y = g * g;
    let x = 1.0 - 2.0 * y / (y + (y * y + 4.0 * lambda * y).sqrt()).max(f64::MIN_POSITIVE);
    if u * (1.0 + x) <= 1.0 {
        x
    } else {
        1.0 / x
    }
}

/// Smallest k with P(N <= k) >= u for N ~ Poisson(mean), by sequential search
/// (one uniform per draw, so the draw count is fixed). Capped at 64 jumps per step.
#[inline]
pub fn poisson_inverse_cdf(mean: f64, u: f64) -> u32 {
    let mut p = (-mean).exp();
    let mut cdf = p;
    let mut k = 0;
    while u > cdf && k < 64 {
        k += 1;
        p *= mean / f64::from(k);
        cdf += p;
    }
    k
}
