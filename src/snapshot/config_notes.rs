//! The comments a written `ccp.toml` carries: what each section and key
//! means and, for a number, its range (from [`bounds`], the ranges the
//! loader checks), so that the file explains itself to whoever edits it.

use crate::input::bounds;

/// The comment on `key` of `section` (`""` before the first header). Haircut
/// keys are asset ids, explained by their section's comment.
pub(super) fn config_note(section: &str, key: &str) -> Option<String> {
    let note = match (section, key) {
        ("", "valuation_date") => "The snapshot's date, YYYY-MM-DD: time to expiry counts from it.".into(),
        ("risk", "margin_period_days") => format!(
            "Margin period of risk in calendar days, the scenario horizon; in {}.",
            bounds::MARGIN_PERIOD_DAYS
        ),
        ("risk", "steps") => format!("Time steps the horizon is split into; in {}.", bounds::STEPS),
        ("risk", "var_confidence") => format!("Confidence levels VaR is reported at; each in {}.", bounds::CONFIDENCE),
        ("risk", "es_confidence") => format!(
            "Confidence levels Expected Shortfall is reported at; each in {}.",
            bounds::CONFIDENCE
        ),
        ("risk", "margin_measure") => "The measure that sets initial margin: \"expected-shortfall\" or \"value-at-risk\".".into(),
        ("risk", "margin_confidence") => format!("Confidence of the margin measure; in {}.", bounds::CONFIDENCE),
        ("scenario", "paths") => format!("Monte Carlo scenarios per run; in {}.", bounds::PATHS),
        ("scenario", "seed") => "Seed of the scenarios (Philox): the same seed gives the same scenarios; any\n64-bit unsigned number.".into(),
        ("scenario", "innovations") => "Distribution of the daily shocks: \"nig\" (normal inverse Gaussian), \"student-t\"\nor \"gaussian\".".into(),
        ("scenario", "dof") => format!("Degrees of freedom of the Student-t innovations; in {}.", bounds::DOF),
        ("scenario", "nig_shape") => format!(
            "Shape of the NIG innovations, smaller is heavier-tailed; in {}.",
            bounds::NIG_SHAPE
        ),
        ("scenario", "block_size") => format!(
            "Scenarios per streamed block: speed and memory only, results do not depend on\nit; in {}.",
            bounds::BLOCK_SIZE
        ),
        ("scenario", "stress") => "Stress scenario files or folders, relative to this folder; [] means the\nscenarios shipped with clearstress.".into(),
        ("scenario.jumps", "intensity_per_year") => format!("Jumps per year; in {}.", bounds::JUMP_INTENSITY),
        ("scenario.jumps", "mean_sigmas") => format!(
            "Mean jump of log price, in daily volatilities; in {}.",
            bounds::JUMP_MEAN
        ),
        ("scenario.jumps", "stdev_sigmas") => format!(
            "Standard deviation of a jump, in daily volatilities; in {}.",
            bounds::JUMP_STDEV
        ),
        ("scenario.vol_shock", "vol_of_vol") => format!(
            "Annualised volatility of log implied vol; in {}.",
            bounds::VOL_OF_VOL
        ),
        ("scenario.vol_shock", "spot_vol_correlation") => format!(
            "Correlation of the implied-vol move with the spot move; in {}.",
            bounds::SPOT_VOL_CORRELATION
        ),
        ("scenario.historical", "history") => "Daily closes (wide CSV or Parquet), relative to this folder.".into(),
        ("scenario.historical", "lookback_days") => format!(
            "Calendar days of history, ending at the valuation date, resampled; in {}.",
            bounds::LOOKBACK_DAYS
        ),
        ("scenario.historical", "lambda") => format!("EWMA decay of the volatility filter; in {}.", bounds::EWMA_LAMBDA),
        ("default_fund", "cover") => format!(
            "How many largest member groups' joint default the fund covers (2: Cover-2);\nin {}.",
            bounds::COVER
        ),
        ("default_fund", "skin_in_the_game") => format!(
            "The CCP's own capital ahead of the mutualised fund, USD; in {}.",
            bounds::SKIN_IN_THE_GAME
        ),
        ("close_out", "horizon_days") => format!(
            "Days over which a defaulter's positions are liquidated; in {}. Absent: the\nmargin period of risk.",
            bounds::MARGIN_PERIOD_DAYS
        ),
        ("close_out", "impact_coefficient") => format!(
            "Y of the square-root impact Y sigma_daily sqrt(|Q| / (ADV H)); in {}.",
            bounds::IMPACT_COEFFICIENT
        ),
        ("close_out.half_spread", "crypto" | "stablecoin") => format!(
            "Half the bid-ask spread of the class's assets, a fraction of the price; in {}.",
            bounds::HALF_SPREAD
        ),
        ("waterfall", "defaulting_groups") => format!(
            "Sets of groups whose joint default is walked in every stress scenario besides\nits Cover-n groups, e.g. [[\"G1\", \"G2\"]]; at most {}.",
            crate::snapshot::config::MAX_DEFAULTING_SETS
        ),
        ("waterfall", "after_assessments") => "What absorbs a loss left after assessments: \"none\", \"vmgh\" (variation\nmargin gains haircutting) or \"insurance-fund-adl\".".into(),
        ("collateral", "eligible") => "The assets accepted (USD for cash); a holding of another counts zero and\nneeds no haircut. Remove the key to accept every asset with a haircut.".into(),
        ("default_fund", "allocation") => "How contributions are split: \"initial-margin\" (pro rata to margin) or\n\"stress-loss\" (pro rata to the largest uncovered stress loss).".into(),
        _ => return None,
    };
    Some(note)
}

/// The comment on a section header of `ccp.toml`.
pub(super) fn section_note(section: &str) -> Option<String> {
    let note = match section {
        "risk" => "Risk measures and the margin period of risk.".into(),
        "scenario" => "The Monte Carlo scenario model.".into(),
        "scenario.jumps" => "Market-wide Merton jumps, common to all assets; remove the section for none.".into(),
        "scenario.vol_shock" => "The implied-volatility shock of each scenario.".into(),
        "scenario.historical" => "Filtered historical simulation instead of the Monte Carlo model; remove the\nsection for Monte Carlo.".into(),
        "collateral.haircuts" => format!(
            "Haircut per collateral asset id (USD for cash): collateral counts at value x\n(1 - haircut); each in {}. An asset without one is refused as collateral.",
            bounds::HAIRCUT
        ),
        "collateral" => "Collateral eligibility (docs/methodology.md, 17.6): the rules apply in the\norder eligible, wrong_way, member_share, issuer_share; value above a limit\ncounts zero.".into(),
        "collateral.wrong_way" => "Wrong-way collateral: per member id, the assets that count zero for it (its\nown token, or one its group issues).".into(),
        "collateral.member_share" => format!(
            "Per asset id: the most of a member's eligible collateral (after haircuts) it\ncounts for; each in {}.",
            bounds::CONCENTRATION_SHARE
        ),
        "collateral.issuers" => "The issuer of each stablecoin (asset id = issuer name), for issuer_share.".into(),
        "collateral.issuer_share" => format!(
            "Per issuer: the most of the CCP's eligible collateral (all members, after\nhaircuts) its assets count for, cut pro rata; each in {}.",
            bounds::CONCENTRATION_SHARE
        ),
        "default_fund" => "The default fund: cover, the CCP's skin in the game, allocation.".into(),
        "close_out" => "The cost of liquidating a defaulter's portfolio: half the spread plus\nsquare-root market impact (docs/methodology.md, 9.5).".into(),
        "close_out.half_spread" => "Half spreads by asset class.".into(),
        "close_out.half_spread_by_asset" => format!(
            "Half spreads of single assets (asset id = fraction of the price), in place of\ntheir class's; each in {}.",
            bounds::HALF_SPREAD
        ),
        "waterfall" => "The default waterfall's layers after the survivors' contributions: a second skin\nin the game and an insurance fund in USD, assessments capped at assessment_multiple\ntimes each survivor's contribution (README, \"ccp.toml\").".into(),
        "liquidity" => "The liquidity stress (docs/methodology.md, 9.7).".into(),
        "liquidity.resources" => format!(
            "The CCP's qualifying liquid resources, units per asset id (USD for cash);\neach in {}.",
            bounds::LIQUID_RESOURCES
        ),
        _ => return None,
    };
    Some(note)
}
