//! The checks a chunk's readback passes before its device-written values
//! index host memory.

/// Checks the `members + 2` words `scan_counts` wrote before they index host
/// memory: offsets from 0, each member's count (the step to the next offset)
/// at most `per_member` and at most the largest count, the last offset equal
/// to the total, which fits `capacity` candidates. The message names the first
/// value that breaks a rule.
pub(super) fn check_offsets(offsets: &[u32], per_member: u32, capacity: u32) -> Result<(), String> {
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
    use super::check_offsets;

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
