use super::*;
use crate::default_management::depletion::DepletionTally;
use crate::tail::{ExactSum, Held, MemberTail, Window};

#[test]
fn the_shards_ranges_tile_the_scenarios_whatever_p_and_n() {
    for (paths, count) in [
        (1000, 1),
        (1000, 3),
        (7, 5),
        (100_000_000_000, 999_983),
        (3, 7),
    ] {
        let mut next = 0;
        for index in 0..count {
            let range = Shard { index, count }.scenarios(paths);
            assert_eq!(range.start, next, "{paths} / {count}, shard {index}");
            assert!(range.end - range.start <= paths.div_ceil(count));
            next = range.end;
        }
        assert_eq!(next, paths, "{paths} / {count}");
    }
}

#[test]
fn shard_specs_read_the_flag_or_the_schedulers_variables() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            (vars.iter())
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let shard = |index, count| Ok(Shard { index, count });
    let slurm = env(&[
        ("SLURM_ARRAY_TASK_ID", "9"),
        ("SLURM_ARRAY_TASK_MIN", "8"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ]);
    let k8s = env(&[("JOB_COMPLETION_INDEX", "3")]);
    let none = env(&[]);
    /// `--shard`'s value, the environment, the shard or the refusal.
    type Case<'a> = (
        &'a str,
        &'a dyn Fn(&str) -> Option<String>,
        Result<Shard, &'a str>,
    );
    let cases: [Case; 8] = [
        ("2/5", &none, shard(2, 5)),
        ("auto", &slurm, shard(1, 4)),
        ("auto/6", &k8s, shard(3, 6)),
        ("5/5", &none, Err("indices run from 0 to 4")),
        ("0/0", &none, Err("the count must be in 1..=1000000")),
        ("x/2", &none, Err("`x` is not a whole-number shard index")),
        ("auto", &k8s, Err("SLURM_ARRAY_TASK_COUNT is not set")),
        ("auto/2", &none, Err("no job array index")),
    ];
    for (spec, env, expected) in cases {
        match (Shard::parse(spec, env), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{spec}"),
            (Err(e), Err(says)) => assert!(e.to_string().contains(says), "{spec}: {e}"),
            (got, want) => panic!("{spec}: {got:?}, expected {want:?}"),
        }
    }
}

/// A tail whose one window dropped losses (a floor set), with gap sums.
fn tail(seed: u64) -> MemberTail {
    let mut t = MemberTail::new(vec![
        Window::keeping(50.0, 80.0, 5, 0),
        Window::keeping(-10.0, 20.0, 5, 0),
    ]);
    let losses: Vec<f64> = (0..200)
        .map(|i| ((i * 37 + seed * 11) % 101) as f64 - 0.25)
        .collect();
    t.push_slice(&losses, seed * 1000);
    t
}

#[test]
fn a_part_reads_back_as_written_and_a_changed_record_fails_the_checksum() {
    let part = MonteCarloPart {
        scenarios: 400..700,
        done: 600,
        tails: vec![tail(1), tail(2), MemberTail::ignore()],
        depletion: Some(DepletionTally {
            demand: tail(3),
            depletion: tail(4),
            exhausted: 7,
            with_uncovered: 19,
            sum: ExactSum::from_limbs([1, 2, 3, u64::MAX]),
            seen: 200,
        }),
    };
    let header = PartHeader {
        shard: Shard { index: 1, count: 3 },
        second_pass: Vec::new(),
        plan: false,
        run: RunIdentity::of(&crate::sample::embedded().unwrap(), 640),
        arguments: vec!["run".into(), "--shard".into(), "1/3".into()],
        plan_sha256: plan_sha256(&part),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("part.parquet");
    std::fs::write(&path, file::encode(&header, &part).unwrap()).unwrap();
    let read = file::read(&path).unwrap();
    assert_eq!(
        read,
        PartialState {
            header,
            part: part.clone()
        }
    );
    let dropped = |w: &Window| matches!(&w.held, Held::Losses(t) if t.state().1.is_some());
    assert!(
        part.tails[0].state().0.iter().all(dropped),
        "the windows have floors"
    );
    // Other records under this part's checksum: a valid Parquet file, a
    // checksum that no longer matches.
    let mut other = part.clone();
    other.tails[1] = tail(5);
    let mut altered = file::encode(&read.header, &other).unwrap();
    let original = std::fs::read(&path).unwrap();
    let checksum = |bytes: &[u8]| {
        let key = br#""blake3":""#;
        let at = bytes.windows(key.len()).rposition(|w| w == key).unwrap() + key.len();
        at..at + 64
    };
    let at = checksum(&altered);
    altered[at].copy_from_slice(&original[checksum(&original)]);
    std::fs::write(&path, &altered).unwrap();
    let err = file::read(&path).unwrap_err().to_string();
    assert!(err.contains("checksum does not match"), "{err}");
}
