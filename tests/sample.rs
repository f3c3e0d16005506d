//! The embedded sample and `init`'s books look like a clearing house's: a
//! matched book, collateral covering margin but for a few calls, a default fund
//! that covers its own Cover-2, round numbers, and the same book for a seed.

mod common;

use clearstress::backend::CpuBackend;
use clearstress::engine::{self, RunLimits};
use clearstress::sample::{self, SampleSpec};
use clearstress::snapshot::{self, net_open_interest};

#[test]
fn the_sample_and_generated_books_are_matched_exactly() {
    let snapshot = sample::embedded().unwrap();
    let oi = net_open_interest(&snapshot);
    assert_eq!(oi.unbalanced(), 0, "largest: {:?}", oi.largest());
    for (members, assets, options, seed) in [
        (2, 2, 0, 1),
        (10, 10, 20, 7),
        (200, 30, 1000, 20_250_220),
        (1000, 50, 5000, 42),
    ] {
        let spec = SampleSpec {
            members,
            assets,
            options,
            listing: Default::default(),
            seed,
        };
        let book = sample::generate(&spec).unwrap().load("test").unwrap();
        let oi = net_open_interest(&book);
        assert_eq!(oi.net.len(), book.instruments.len());
        assert!(
            oi.net.iter().all(|&q| q == 0.0),
            "{spec:?}: {} instruments not flat, largest {:?}",
            oi.unbalanced(),
            oi.largest()
        );
    }
}

#[test]
fn the_samples_margin_calls_are_few_and_its_fund_covers_its_cover_2() {
    let mut snapshot = sample::embedded().unwrap();
    snapshot.config.scenario.paths = 20_000;
    let backend = CpuBackend::new(None).unwrap();
    let result = engine::run(&backend, &snapshot, RunLimits::default(), &|_| {}).unwrap();
    let calls = result
        .margin
        .members
        .iter()
        .filter(|m| m.excess < 0.0)
        .count();
    assert!(
        (2..=4).contains(&calls),
        "{calls} of {} members short of margin",
        result.margin.members.len()
    );
    let requirement = result.default_fund.requirement.amount;
    let contributions: f64 = snapshot.members.iter().map(|m| m.df_contribution).sum();
    let resources = contributions + snapshot.config.default_fund.skin_in_the_game;
    assert!(requirement > 0.0);
    assert!(
        resources >= 1.05 * requirement && resources <= 1.15 * requirement,
        "prefunded {resources} against a Cover-2 of {requirement}"
    );
    let driving = result.waterfall.requirement(&result.default_fund);
    assert_eq!(driving.map(|w| w.waterfall.unfunded), Some(0.0));
    // Members alone cover the requirement: skin in the game is a small layer.
    assert!(
        contributions >= requirement,
        "{contributions} < {requirement}"
    );
}

/// A number written with more significant digits than a round amount or a
/// market quote has (at most 9 here), e.g. 6099999.999999999 or
/// 0.30000000000000004: float noise printed in full.
fn long_decimal(field: &str) -> bool {
    if field.parse::<f64>().is_err() {
        return false;
    }
    let digits: String = field.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len() > 9
}

#[test]
fn generated_amounts_are_round_numbers() {
    for spec in [
        SampleSpec::default(),
        SampleSpec {
            members: 300,
            assets: 40,
            options: 2000,
            listing: Default::default(),
            seed: 3,
        },
    ] {
        let files = sample::generate(&spec).unwrap();
        let tables = files.tables().unwrap();
        for (name, text) in &tables {
            for line in text.lines() {
                for field in line.split(',') {
                    assert!(!long_decimal(field), "{name}: `{field}` in `{line}`");
                }
            }
        }
        let skin = files.book.config.default_fund.skin_in_the_game;
        assert!(!long_decimal(&skin.to_string()), "{skin}");
        // Contributions are whole thousands of USD; cash collateral three
        // significant figures.
        let members = &tables.iter().find(|t| t.0 == "members").unwrap().1;
        for line in members.lines().skip(1) {
            let contribution: f64 = line.rsplit(',').next().unwrap().parse().unwrap();
            assert_eq!(contribution % 1000.0, 0.0, "{line}");
        }
    }
}

#[test]
fn a_seed_gives_the_same_book_and_another_seed_another() {
    let spec = SampleSpec {
        members: 50,
        assets: 12,
        options: 100,
        listing: Default::default(),
        seed: 99,
    };
    let a = sample::generate(&spec).unwrap();
    let b = sample::generate(&spec).unwrap();
    assert_eq!(a.tables().unwrap(), b.tables().unwrap());
    assert_eq!(a.book.config, b.book.config);
    let c = sample::generate(&SampleSpec { seed: 100, ..spec }).unwrap();
    assert_ne!(a.tables().unwrap(), c.tables().unwrap());
}

/// The generator sizes collateral and the fund on its own domain values; the
/// run reads the written files. They must be the same book: every number the
/// generator holds is one its text parses back to.
#[test]
fn the_generated_book_is_the_book_its_files_load_as() {
    for spec in [
        SampleSpec::default(),
        SampleSpec {
            members: 120,
            assets: 30,
            options: 700,
            listing: Default::default(),
            seed: 9,
        },
    ] {
        let files = sample::generate(&spec).unwrap();
        let loaded = files.load("test").unwrap();
        common::assert_same_book(&loaded, &files.book);
        assert_eq!(loaded.config, files.book.config);
    }
}

/// `init`'s folder is a snapshot `run --book` reads: the shipped stress
/// scenarios copied beside the tables, which its configuration names.
#[test]
fn the_written_book_loads_back_with_the_shipped_stress_scenarios() {
    let spec = SampleSpec {
        members: 12,
        assets: 6,
        options: 30,
        listing: Default::default(),
        seed: 4,
    };
    let files = sample::generate(&spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let written = files.write(dir.path()).unwrap();
    assert_eq!(
        written.len(),
        snapshot::SNAPSHOT_FILES.len() + 1 + sample::STRESS_SCENARIOS.len()
    );
    let loaded = snapshot::load(dir.path()).unwrap();
    assert_eq!(loaded.config.scenario.stress, vec!["scenarios".to_string()]);
    common::assert_same_book(&loaded, &files.book);
    let names: Vec<&str> = loaded.stress.iter().map(|s| s.name.as_str()).collect();
    let shipped = sample::embedded_stress(&loaded.market).unwrap();
    let shipped: Vec<&str> = shipped.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, shipped);
}

/// `--option-series`: a Deribit-sized listing (some 1,300 series) is the
/// nearest whole number of strikes per underlying and expiry, every series
/// distinct and the book still matched; without it, the standard 352.
#[test]
fn an_option_listing_of_a_given_size_lists_about_that_many_distinct_series() {
    use clearstress::sample::OptionListing;
    use clearstress::snapshot::InstrumentKind;
    use std::collections::HashSet;
    let option_series = |listing| {
        let spec = SampleSpec {
            members: 40,
            assets: 12,
            options: 600,
            listing,
            seed: 11,
        };
        let book = sample::generate(&spec).unwrap().load("test").unwrap();
        let oi = net_open_interest(&book);
        assert_eq!(oi.unbalanced(), 0, "{listing:?}: {:?}", oi.largest());
        let options: Vec<_> = book
            .instruments
            .iter()
            .filter(|i| matches!(i.kind, InstrumentKind::Option { .. }))
            .collect();
        let ids: HashSet<_> = options.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids.len(), options.len(), "{listing:?}: repeated ids");
        options.len()
    };
    assert_eq!(option_series(OptionListing::Standard), 352);
    // 1,300 / (2 underlyings x 4 expiries x 4) = 40.6: 41 strikes, 1,312
    // series, fewer only where the strike grid rounds two strikes to one.
    let deribit = option_series(OptionListing::Series(1300));
    assert!((1250..=1312).contains(&deribit), "{deribit}");
    // One strike per underlying and expiry at least.
    assert_eq!(option_series(OptionListing::Series(4)), 32);
}
