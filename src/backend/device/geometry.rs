//! How a run is cut into chunks on one device: the bounds on its work
//! buffers ([`Chunking`]), the launch limits of the device ([`LaunchLimits`])
//! and the chunk shape that fits both ([`Geometry`]).

use super::{CANDIDATE_BYTES, TILE};

/// Upper bounds on a device's work buffers; its own limits may lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// Scenarios per chunk.
    pub scenarios: u32,
    /// Tail candidates one chunk may return, all members together: a bound on
    /// what the device's memory allows ([`Geometry::new`]'s `buffer_bytes`).
    pub candidates: u32,
    /// Bytes any one scenario-sized work buffer (moves, option P&Ls) may take.
    pub buffer_bytes: u64,
    /// Whether the device sums the losses in the gaps between each member's
    /// tail windows instead of returning them (`device::gap`), where it can:
    /// CUDA (WGSL has no f64, so wgpu returns them). Tests turn it off to
    /// show that it changes no bit.
    pub sum_gaps: bool,
}

impl Default for Chunking {
    fn default() -> Self {
        Self {
            scenarios: 1 << 18,
            // 512 MiB a candidate buffer (a slot has two, and a readback): at
            // 10^4 members 6,710 candidates a member and chunk, so that a
            // member admitting ~1% of its scenarios fills a chunk of 2^18.
            candidates: 1 << 26,
            buffer_bytes: 256 << 20,
            sum_gaps: true,
        }
    }
}

/// Workgroups (CUDA: blocks) a launch may have along its member axis: CUDA's
/// `gridDim.y` limit, and WebGPU's default `maxComputeWorkgroupsPerDimension`.
pub const MAX_MEMBER_TILES: u64 = 65_535;

/// The launch limits of a device that bound a chunk's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchLimits {
    /// Largest bytes of one buffer (binding) the kernels address.
    pub buffer_bytes: u64,
    /// Most tiles of [`TILE`] scenarios along a launch's x axis.
    pub scenario_tiles: u64,
    /// Most tiles of [`TILE`] members along a launch's y axis.
    pub member_tiles: u64,
}

impl LaunchLimits {
    /// The most members one `member_losses` launch covers.
    pub fn max_members(&self) -> u64 {
        self.member_tiles * u64::from(TILE)
    }
}

/// How a run is cut into chunks on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub members: usize,
    /// Scenarios per chunk: the row stride of the asset- and series-major arrays.
    pub stride: u32,
    /// Candidates each member's region holds per chunk.
    pub per_member: u32,
}

impl Geometry {
    /// The chunks that fit buffers of at most `buffer_bytes` and launches of at
    /// most `max_tiles` tiles along the scenarios and [`MAX_MEMBER_TILES`]
    /// along the members.
    pub fn new(
        members: usize,
        widest_row: usize,
        buffer_bytes: u64,
        max_tiles: u64,
        chunking: &Chunking,
    ) -> Result<Self, String> {
        let limits = LaunchLimits {
            buffer_bytes,
            scenario_tiles: max_tiles,
            member_tiles: MAX_MEMBER_TILES,
        };
        Self::within(members, widest_row, &limits, chunking)
    }

    /// The chunks that fit `limits`: scenarios per chunk from the widest row
    /// (assets or option series) and [`Chunking::scenarios`], candidates from
    /// the largest buffer and [`Chunking::candidates`]. A book without members,
    /// or with more than one launch covers, is an error.
    pub fn within(
        members: usize,
        widest_row: usize,
        limits: &LaunchLimits,
        chunking: &Chunking,
    ) -> Result<Self, String> {
        if members == 0 {
            return Err("the book has no members: there is nothing to revalue".into());
        }
        let most = limits.max_members();
        if members as u64 > most {
            return Err(format!(
                "{members} members are more than one launch covers: {} tiles of {TILE} \
                 members, {most} in all",
                limits.member_tiles
            ));
        }
        let row_bytes = limits.buffer_bytes.min(chunking.buffer_bytes);
        let stride = (row_bytes / (4 * widest_row.max(1) as u64))
            .min(u64::from(chunking.scenarios))
            .min(limits.scenario_tiles.saturating_mul(u64::from(TILE)))
            .max(1) as u32;
        let capacity = (limits.buffer_bytes / CANDIDATE_BYTES).min(u64::from(chunking.candidates));
        let per_member = (capacity / members as u64).min(u64::from(u32::MAX)) as u32;
        if per_member == 0 {
            return Err(format!(
                "the candidate list holds {capacity} losses, fewer than the {members} members \
                 of one scenario"
            ));
        }
        Ok(Self {
            members,
            stride,
            per_member,
        })
    }

    /// Candidates the packed list holds.
    pub fn capacity(&self) -> u32 {
        self.per_member * self.members.max(1) as u32
    }

    /// Bytes of the offsets that head a readback: members + 2 words, padded.
    pub fn offsets_bytes(&self) -> u64 {
        (4 * (self.members as u64 + 2)).next_multiple_of(8)
    }

    /// Bytes of the packed list.
    pub fn list_bytes(&self) -> u64 {
        u64::from(self.capacity()) * CANDIDATE_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAVAPIPE: LaunchLimits = LaunchLimits {
        buffer_bytes: 128 << 20,
        scenario_tiles: 65_535,
        member_tiles: 65_535,
    };

    #[test]
    fn candidates_scale_with_the_largest_buffer_up_to_the_bound() {
        let chunking = Chunking::default();
        let g = Geometry::within(10_000, 100, &LAVAPIPE, &chunking).unwrap();
        // 128 MiB holds 2^24 candidates: 1,677 a member at 10^4 members.
        assert_eq!(g.per_member, (1 << 24) / 10_000);
        assert_eq!(g.stride, 1 << 18);
        let large = LaunchLimits {
            buffer_bytes: 8 << 30,
            ..LAVAPIPE
        };
        let g = Geometry::within(10_000, 100, &large, &chunking).unwrap();
        assert_eq!(g.per_member, chunking.candidates / 10_000);
        // CUDA's call: launches bounded along the scenarios only.
        let g = Geometry::new(10_000, 100, 8 << 30, u64::from(u32::MAX), &chunking).unwrap();
        assert_eq!(g.per_member, chunking.candidates / 10_000);
        assert!(g.list_bytes() <= 8 << 30);
    }

    #[test]
    fn launch_shapes_without_members_or_beyond_one_launch_are_errors() {
        let chunking = Chunking::default();
        let err = Geometry::within(0, 10, &LAVAPIPE, &chunking).unwrap_err();
        assert!(err.contains("no members"), "{err}");
        let err = Geometry::new(0, 10, 1 << 30, 1 << 20, &chunking).unwrap_err();
        assert!(err.contains("no members"), "{err}");
        // 65,535 tiles of 64 members: 4,194,240 in one launch, on CUDA
        // (gridDim.y) and on an adapter with WebGPU's default limit.
        let most = 65_535 * 64;
        assert_eq!(LAVAPIPE.max_members(), most);
        assert!(Geometry::within(most as usize, 10, &LAVAPIPE, &chunking).is_ok());
        for geometry in [
            Geometry::within(most as usize + 1, 10, &LAVAPIPE, &chunking),
            Geometry::new(most as usize + 1, 10, 1 << 30, 1 << 31, &chunking),
        ] {
            let err = geometry.unwrap_err();
            assert!(
                err.contains("4194241 members") && err.contains("4194240"),
                "{err}"
            );
        }
        // A smaller adapter limit lowers the bound.
        let small = LaunchLimits {
            member_tiles: 2,
            ..LAVAPIPE
        };
        assert!(Geometry::within(128, 10, &small, &chunking).is_ok());
        assert!(Geometry::within(129, 10, &small, &chunking).is_err());
        // A candidate list smaller than one scenario's worth.
        let tiny = Chunking {
            candidates: 100,
            ..chunking
        };
        assert!(Geometry::within(101, 10, &LAVAPIPE, &tiny)
            .unwrap_err()
            .contains("candidate list"));
    }

    #[test]
    fn scenario_tiles_bound_the_stride() {
        let few = LaunchLimits {
            scenario_tiles: 3,
            ..LAVAPIPE
        };
        let g = Geometry::within(10, 10, &few, &Chunking::default()).unwrap();
        assert_eq!(g.stride, 3 * TILE);
    }
}
