//! The round numbers a clearing house's files hold: amounts to a few
//! significant figures, strikes on a venue's grid. The generator rounds the
//! domain values themselves, so the snapshot writer's shortest-round-trip text
//! of each number is the round number (6100000, never 6099999.999999999) and
//! the book the generator sizes is the book a run reads back.

/// `x` to `digits` significant figures. The division by a power of ten above
/// one (or multiplication by one) keeps the result the nearest double to the
/// decimal, which prints as written: 6100000, not 6099999.999999999.
pub(super) fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    round_dp(x, digits - 1 - x.abs().log10().floor() as i32)
}

/// `x` rounded to `places` decimals (negative: to tens, hundreds, ...).
pub(super) fn round_dp(x: f64, places: i32) -> f64 {
    at_places(x, places, f64::round)
}

/// `x` rounded up to `digits` significant figures, as [`round_sig`]: collateral
/// rounded up still covers what it was sized to cover.
pub(super) fn ceil_sig(x: f64, digits: i32) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    at_places(x, digits - 1 - x.log10().floor() as i32, f64::ceil)
}

/// `x` made whole by `to_whole` (`f64::round`, `f64::ceil`) in units of the
/// `places`-th decimal. A power of ten above one scales by a division, never by
/// a multiplication with its inexact reciprocal (0.1, 0.01, ...), which is what
/// keeps the result the nearest double to the decimal.
fn at_places(x: f64, places: i32, to_whole: fn(f64) -> f64) -> f64 {
    if places >= 0 {
        let scale = 10f64.powi(places);
        to_whole(x * scale) / scale
    } else {
        let step = 10f64.powi(-places);
        to_whole(x / step) * step
    }
}

/// A strike on the grid a venue would list: 1,000s for BTC-sized prices, 50s for
/// ETH-sized, 3 significant digits otherwise.
pub(super) fn nice_strike(x: f64, spot: f64) -> f64 {
    if spot > 20_000.0 {
        ((x / 1000.0).round() * 1000.0).max(1000.0)
    } else if spot > 1000.0 {
        ((x / 50.0).round() * 50.0).max(50.0)
    } else {
        round_sig(x, 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_numbers_print_as_written() {
        assert_eq!(round_dp(6_099_999.999_999_999, -5).to_string(), "6100000");
        assert_eq!(round_sig(9_123_456.0, 2).to_string(), "9100000");
        assert_eq!(ceil_sig(12_345_678.0, 3).to_string(), "12400000");
        assert_eq!(ceil_sig(0.012_341, 3).to_string(), "0.0124");
        assert_eq!(nice_strike(1.234_56, 1.2).to_string(), "1.23");
    }
}
