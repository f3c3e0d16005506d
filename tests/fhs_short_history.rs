//! When filtered historical simulation finds too few days, the error names
//! the history, the window, the asset and the reason, in the history's dates.

mod common;

use clearstress::history::PriceHistory;
use clearstress::input::{Date, Table};
use clearstress::scenario::FilteredHistory;
use clearstress::snapshot::{HistoricalConfig, MarketData};

/// Closes of assets A and B from `first` for `days` days; `b_has(k)` says
/// whether B has a price on day k.
fn history(first: &str, days: i64, b_has: impl Fn(i64) -> bool) -> PriceHistory {
    let start = common::date(first);
    let mut csv = String::from("date,A,B\n");
    for k in 0..days {
        let d = start.checked_add_days(k).unwrap();
        let a = 100.0 * (0.02 * (k as f64).sin()).exp();
        let b = 50.0 * (0.03 * (0.7 * k as f64).cos()).exp();
        let b = if b_has(k) {
            b.to_string()
        } else {
            String::new()
        };
        csv.push_str(&format!("{d},{a},{b}\n"));
    }
    PriceHistory::from_table(&Table::from_csv_bytes("closes.csv", csv.as_bytes()).unwrap()).unwrap()
}

fn market() -> MarketData {
    let assets = vec![
        common::asset("A", 100.0, 0.5),
        common::asset("B", 50.0, 0.6),
    ];
    common::market_snapshot(
        assets,
        vec![1.0, 0.3, 0.3, 1.0],
        vec![common::member("M1", "")],
    )
    .market
}

fn error(history: &PriceHistory, as_of: &str, lookback_days: u32) -> String {
    let config = HistoricalConfig {
        lookback_days,
        ..HistoricalConfig::default()
    };
    FilteredHistory::new(history, &market(), common::date(as_of), &config, 2.0)
        .unwrap_err()
        .to_string()
}

fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "`{part}` not in: {text}");
    }
}

#[test]
fn a_history_ending_before_the_window_says_so() {
    let h = history("2024-01-01", 182, |_| true);
    let e = error(&h, "2025-02-20", 90);
    assert_contains(
        &e,
        &[
            "closes.csv",
            "window 2024-11-23..2025-02-20",
            "0 usable daily returns",
            "the history ends 2024-06-30, before the window starts (valuation date 2025-02-20)",
        ],
    );
}

#[test]
fn a_history_ending_inside_the_window_says_how_much_of_it_is_there() {
    // Ends 2025-02-10; the 35-day window 2025-01-17..2025-02-20 holds 25 days.
    let h = history("2024-01-01", 407, |_| true);
    assert_eq!(h.dates.last().unwrap().to_string(), "2025-02-10");
    let e = error(&h, "2025-02-20", 35);
    assert_contains(
        &e,
        &[
            "window 2025-01-17..2025-02-20",
            "25 usable daily returns",
            "the history ends 2025-02-10, before the valuation date 2025-02-20",
            "holds only 25 of its 35 days",
        ],
    );
}

#[test]
fn an_asset_listed_too_recently_to_seed_its_ewma_is_named() {
    // B trades only on the last 10 days: 9 returns.
    let h = history("2024-01-01", 417, |k| k >= 407);
    let e = error(&h, "2025-02-20", 365);
    assert_contains(
        &e,
        &[
            "B: 9 usable daily returns",
            "B has 9 daily returns up to 2025-02-20 in the history, and its EWMA needs 30",
        ],
    );
}

#[test]
fn assets_without_common_days_in_the_window_name_the_sparsest() {
    // B stops trading 200 days in: its EWMA is seeded, but the last 100 days
    // have no B return.
    let h = history("2024-01-01", 417, |k| k < 200);
    let e = error(&h, "2025-02-20", 100);
    assert_contains(
        &e,
        &[
            "only 0 days in the window have a return and a volatility forecast for every asset",
            "B has the fewest returns in the window (0)",
        ],
    );
}

#[test]
fn the_lookback_is_bounded_in_files_as_in_flags() {
    let h = history("2024-01-01", 417, |_| true);
    for days in [29, 36_501, u32::MAX] {
        let e = error(&h, "2025-02-20", days);
        assert_contains(
            &e,
            &[
                "scenario.historical.lookback_days",
                "30..=36500 calendar days",
            ],
        );
    }
    // Within range, the window is simply what the history holds.
    let config = HistoricalConfig {
        lookback_days: 36_500,
        ..HistoricalConfig::default()
    };
    let fh = FilteredHistory::new(&h, &market(), common::date("2025-02-20"), &config, 2.0).unwrap();
    assert!(fh.days() > 300, "{}", fh.days());
    assert!(fh.dates[0] >= Date::MIN);
}
