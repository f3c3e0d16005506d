//! A chunk's readback: the checks its device-written values pass before they
//! index host memory, and the candidates they give.

use super::{Candidates, Geometry, GAP_WORDS};

/// The candidates of a readback of a chunk of `scenarios`: `offsets`, the
/// `members + 2` words that `scan_counts` wrote, `list`, the packed list's
/// words as far as they were read back, and `gap_sums`, the counters of the
/// members' first `gaps` gaps (empty when the device summed none). `None`
/// when some member found more candidates than its region holds (the chunk is
/// drawn again in halves); an error when the words break a rule of
/// [`check_offsets`], the list was not read far enough, or a gap counts more
/// losses than the chunk has scenarios.
pub fn candidates_in<'a>(
    geometry: &Geometry,
    scenarios: u64,
    offsets: &'a [u32],
    list: &'a [u32],
    gaps: usize,
    gap_sums: &'a [u64],
) -> Result<Option<Candidates<'a>>, String> {
    let members = geometry.members;
    if gap_sums.len() != members * gaps * GAP_WORDS {
        return Err(format!(
            "{} gap counters for {members} members with {gaps} gaps each",
            gap_sums.len()
        ));
    }
    if let Some((at, count)) = gap_sums
        .iter()
        .step_by(GAP_WORDS)
        .enumerate()
        .find(|&(_, &count)| count > scenarios)
    {
        return Err(format!(
            "member {}'s gap {} counts {count} losses in a chunk of {scenarios} scenarios",
            at / gaps.max(1),
            at % gaps.max(1)
        ));
    }
    if offsets.len() != members + 2 {
        return Err(format!(
            "{} offset words for {members} members",
            offsets.len()
        ));
    }
    if offsets[members + 1] > geometry.per_member {
        return Ok(None);
    }
    check_offsets(offsets, geometry.per_member, geometry.capacity())?;
    let words = 2 * offsets[members] as usize;
    let Some(list) = list.get(..words) else {
        return Err(format!(
            "{} candidates, {} read back",
            offsets[members],
            list.len() / 2
        ));
    };
    Ok(Some(Candidates {
        offsets: &offsets[..=members],
        items: bytemuck::cast_slice(list),
        gaps,
        gap_sums,
    }))
}

/// Checks the `members + 2` words `scan_counts` wrote before they index host
/// memory: offsets from 0, each member's count (the step to the next offset)
/// at most `per_member` and at most the largest count, the last offset equal
/// to the total, which fits `capacity` candidates. The message names the first
/// value that breaks a rule.
pub fn check_offsets(offsets: &[u32], per_member: u32, capacity: u32) -> Result<(), String> {
    let Some(members) = offsets.len().checked_sub(2) else {
        return Err(format!("{} words, fewer than 2", offsets.len()));
    };
    let (total, widest) = (offsets[members], offsets[members + 1]);
    if offsets[0] != 0 {
        return Err(format!("offsets[0] = {}, not 0", offsets[0]));
    }
    for m in 0..members {
        let (at, next) = (offsets[m], offsets[m + 1]);
        let Some(count) = next.checked_sub(at) else {
            return Err(format!(
                "offsets[{}] = {next} < offsets[{m}] = {at}: not monotone",
                m + 1
            ));
        };
        if count > per_member || count > widest {
            return Err(format!(
                "member {m} has {count} candidates (offsets {at}..{next}), over its region \
                 of {per_member} or the largest count {widest}"
            ));
        }
    }
    if total > capacity {
        return Err(format!(
            "{total} candidates in all, over the capacity of {capacity}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{candidates_in, check_offsets, GAP_WORDS};
    use crate::backend::device::{Chunking, Geometry};

    #[test]
    fn a_readback_gives_each_member_its_candidates_where_they_lie() {
        let geometry = Geometry::new(3, 1, 1 << 20, 1 << 16, &Chunking::default()).unwrap();
        // Counts 2, 0, 1 (largest 2): member 0 has scenarios 5 and 9, member 2 scenario 7.
        let offsets = [0, 2, 2, 3, 2];
        let list = [5, 10, 9, 11, 7, 12, 99, 99];
        let found = candidates_in(&geometry, 10, &offsets, &list, 0, &[])
            .unwrap()
            .unwrap();
        assert_eq!(found.offsets, &[0, 2, 2, 3]);
        assert_eq!(found.items, &[[5, 10], [9, 11], [7, 12]]);
        // With each member's two gaps' counters: member 2's second holds 10 losses.
        let mut sums = vec![0u64; 3 * 2 * GAP_WORDS];
        (sums[0], sums[5 * GAP_WORDS]) = (4, 10);
        let found = candidates_in(&geometry, 10, &offsets, &list, 2, &sums)
            .unwrap()
            .unwrap();
        assert_eq!((found.gaps, found.gap_sums), (2, &sums[..]));
        // A member past its region: the chunk is drawn again, nothing is read.
        let over = [0, 2, 2, 3, geometry.per_member + 1];
        assert_eq!(candidates_in(&geometry, 10, &over, &list, 0, &[]), Ok(None));
        // A list read back short of the total, offsets of another book,
        // counters of another layout or counting more losses than the chunk had.
        let short = candidates_in(&geometry, 10, &offsets, &list[..4], 0, &[]).unwrap_err();
        assert!(short.contains("3 candidates, 2 read back"), "{short}");
        let other = candidates_in(&geometry, 10, &[0, 0], &list, 0, &[]).unwrap_err();
        assert!(other.contains("2 offset words for 3 members"), "{other}");
        let other = candidates_in(&geometry, 10, &offsets, &list, 1, &sums).unwrap_err();
        assert!(
            other.contains("198 gap counters for 3 members with 1 gaps"),
            "{other}"
        );
        let many = candidates_in(&geometry, 9, &offsets, &list, 2, &sums).unwrap_err();
        assert!(many.contains("member 2's gap 1 counts 10 losses"), "{many}");
    }

    #[test]
    fn offsets_from_the_device_are_checked_before_they_index_host_memory() {
        // Three members, regions of 4, capacity 12: counts 2, 0, 3; total 5, widest 3.
        assert_eq!(check_offsets(&[0, 2, 2, 5, 3], 4, 12), Ok(()));
        assert_eq!(check_offsets(&[0, 0], 4, 0), Ok(()), "no member");
        let bad: [(&[u32], &str); 6] = [
            (&[1, 2, 2, 5, 3], "offsets[0] = 1"),
            (&[0, 3, 2, 5, 3], "offsets[2] = 2 < offsets[1] = 3"),
            (&[0, 2, 2, 9, 7], "member 2 has 7 candidates"),
            (&[0, 2, 2, 5, 2], "member 2 has 3 candidates"),
            (&[0, 2, 2, 13, 4], "member 2 has 11"),
            (&[7], "1 words"),
        ];
        for (offsets, expected) in bad {
            let message = check_offsets(offsets, 4, 12).unwrap_err();
            assert!(message.contains(expected), "{offsets:?}: {message}");
        }
        // Counts within their regions but a total past the capacity (a
        // geometry that does not hold what it claims).
        let message = check_offsets(&[0, 4, 8, 12, 4], 4, 10).unwrap_err();
        assert!(
            message.contains("12 candidates in all, over the capacity of 10"),
            "{message}"
        );
    }
}
