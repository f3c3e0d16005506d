//! Counter-based random numbers for scenarios.
//!
//! # The mapping from (seed, scenario, step, stream, index) to numbers
//!
//! Every random number of a run is read off one Philox4x32-10 block:
//!
//! ```text
//! key     = [seed mod 2^32, seed div 2^32]
//! counter = [n mod 2^32, n div 2^32, step, (stream << 24) | block]
//! ```
//!
//! where `n` is the scenario index, `step` the time step within the margin period of
//! risk, `stream` one of [`Stream`] and `block` the index of a group of four words.
//! A block's four words `x0..x3` become uniforms `u_i = (x_i + 1/2) / 2^32`, strictly
//! inside (0, 1), and the uniforms become normals by Box-Muller in pairs:
//! `(u0, u1) -> (z0, z1)`, `(u2, u3) -> (z2, z3)` with `r = sqrt(-2 ln u_even)`,
//! `z_even = r cos(2 pi u_odd)`, `z_odd = r sin(2 pi u_odd)`. Normal number `i` of a
//! stream is lane `i mod 4` of block `i div 4`.
//!
//! Nothing depends on the order in which scenarios are drawn, so any thread count,
//! chunk size, shard or device reproduces scenario n exactly; the GPU backends
//! implement the same mapping and are tested against this one.

mod normal;
mod philox;

pub use normal::{box_muller_lanes, ln, sin_cos_turns};
pub use philox::{philox4x32_10, Counter, Key};

/// The independent streams a scenario draws from. Each has its own counter space,
/// so adding a model feature never shifts the numbers of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Stream {
    /// Standard normals driving the assets' diffusion, one per asset and step.
    Diffusion = 0,
    /// Normals whose squares sum to the chi-square mixing variable of Student-t.
    ChiSquare = 1,
    /// One uniform per step for the number of market-wide jumps.
    JumpCount = 2,
    /// Normals for the jump sizes, one per asset and step.
    JumpSize = 3,
    /// Normals for the implied-volatility shock, one per asset.
    VolShock = 4,
    /// Sequential draws for synthetic book generation ([`PhiloxRng`]).
    Generator = 5,
    /// One uniform per day of the horizon picking a historical day (filtered
    /// historical simulation).
    Historical = 6,
    /// Per step: a normal (block 0) and a uniform (block 1) making the
    /// inverse-Gaussian mixing variable of the NIG innovations.
    InverseGaussian = 7,
}

/// Largest block index a stream can address (24 bits of the last counter word).
pub const MAX_BLOCKS_PER_STREAM: u32 = 1 << 24;

const TWO_POW_MINUS_32: f64 = 1.0 / 4_294_967_296.0;

/// The uniform in (0, 1) that a 32-bit word maps to: `(x + 1/2) / 2^32`.
#[inline(always)]
pub fn uniform_from_bits(x: u32) -> f64 {
    (f64::from(x) + 0.5) * TWO_POW_MINUS_32
}

/// Box-Muller: two uniforms in (0, 1) to two independent standard normals, with
/// the logarithm and sine/cosine of [`normal`] (within an ulp of the system's).
#[inline(always)]
pub fn box_muller(u_radius: f64, u_angle: f64) -> (f64, f64) {
    let (mut c, mut s) = ([0.0], [0.0]);
    box_muller_lanes(&[u_radius], &[u_angle], &mut c, &mut s);
    (c[0], s[0])
}

/// Blocks transformed together: eight Box-Muller pairs fill vector registers.
const BLOCKS_PER_BATCH: usize = 4;

/// The random numbers of one run, keyed by its seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioRng {
    key: Key,
}

impl ScenarioRng {
    pub fn new(seed: u64) -> Self {
        Self {
            key: [seed as u32, (seed >> 32) as u32],
        }
    }

    /// The Philox key: the seed's low and high words.
    pub fn key(&self) -> Key {
        self.key
    }

    /// The four raw words of `block` in `stream` at (scenario, step).
    #[inline(always)]
    pub fn bits(&self, scenario: u64, step: u32, stream: Stream, block: u32) -> [u32; 4] {
        debug_assert!(block < MAX_BLOCKS_PER_STREAM);
        let counter = [
            scenario as u32,
            (scenario >> 32) as u32,
            step,
            ((stream as u32) << 24) | block,
        ];
        philox4x32_10(counter, self.key)
    }

    /// The four uniforms of `block`.
    #[inline(always)]
    pub fn uniforms(&self, scenario: u64, step: u32, stream: Stream, block: u32) -> [f64; 4] {
        self.bits(scenario, step, stream, block)
            .map(uniform_from_bits)
    }

    /// Fills `out` with normals `0..out.len()` of `stream` at (scenario, step).
    #[inline]
    pub fn normals(&self, scenario: u64, step: u32, stream: Stream, out: &mut [f64]) {
        const PAIRS: usize = 2 * BLOCKS_PER_BATCH;
        for (batch, chunk) in out.chunks_mut(4 * BLOCKS_PER_BATCH).enumerate() {
            let (mut radius, mut angle) = ([0.5; PAIRS], [0.5; PAIRS]);
            let blocks = chunk.len().div_ceil(4);
            for b in 0..blocks {
                let u = self.uniforms(
                    scenario,
                    step,
                    stream,
                    (batch * BLOCKS_PER_BATCH + b) as u32,
                );
                radius[2 * b] = u[0];
                angle[2 * b] = u[1];
                radius[2 * b + 1] = u[2];
                angle[2 * b + 1] = u[3];
            }
            let (mut cos, mut sin) = ([0.0; PAIRS], [0.0; PAIRS]);
            box_muller_lanes(&radius, &angle, &mut cos, &mut sin);
            for (i, dst) in chunk.iter_mut().enumerate() {
                let pair = i / 2;
                *dst = if i % 2 == 0 { cos[pair] } else { sin[pair] };
            }
        }
    }
}

/// A sequential generator over one Philox stream, for work that is drawn once in
/// order (synthetic books), plugged into `rand`'s distributions. Portable: the
/// words depend only on (seed, position).
#[derive(Debug)]
pub struct PhiloxRng {
    rng: ScenarioRng,
    position: u64,
    buffered: [u32; 4],
    used: usize,
}

impl PhiloxRng {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ScenarioRng::new(seed),
            position: 0,
            buffered: [0; 4],
            used: 4,
        }
    }
}

impl rand::TryRng for PhiloxRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        if self.used == 4 {
            self.buffered = self.rng.bits(self.position, 0, Stream::Generator, 0);
            self.position += 1;
            self.used = 0;
        }
        self.used += 1;
        Ok(self.buffered[self.used - 1])
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let lo = u64::from(self.try_next_u32()?);
        let hi = u64::from(self.try_next_u32()?);
        Ok((hi << 32) | lo)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(4) {
            let word = self.try_next_u32()?.to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_numbers_depend_only_on_seed_scenario_step_and_stream() {
        let rng = ScenarioRng::new(0x0123_4567_89ab_cdef);
        let mut a = [0.0; 7];
        let mut b = [0.0; 7];
        rng.normals(1_000_003, 2, Stream::Diffusion, &mut a);
        // Draw other scenarios in between: nothing carries over.
        let mut noise = [0.0; 16];
        rng.normals(5, 0, Stream::Diffusion, &mut noise);
        rng.normals(1_000_003, 2, Stream::Diffusion, &mut b);
        assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits));
        let mut other_stream = [0.0; 7];
        rng.normals(1_000_003, 2, Stream::JumpSize, &mut other_stream);
        assert_ne!(a, other_stream);
    }

    #[test]
    fn the_counter_layout_is_the_documented_one() {
        let seed = 0xdead_beef_0000_0042_u64;
        let rng = ScenarioRng::new(seed);
        let n = (7_u64 << 32) | 11;
        let expected = philox4x32_10([11, 7, 3, (4 << 24) | 5], [0x0000_0042, 0xdead_beef]);
        assert_eq!(rng.bits(n, 3, Stream::VolShock, 5), expected);
    }

    #[test]
    fn uniforms_stay_strictly_inside_the_unit_interval() {
        assert_eq!(uniform_from_bits(0), 0.5 / 4_294_967_296.0);
        assert!(uniform_from_bits(u32::MAX) < 1.0);
        assert!(uniform_from_bits(0) > 0.0);
    }

    /// Moments of 400k normals against N(0,1): mean within 5 standard errors,
    /// variance within 5 standard errors (Var of s^2 is 2/n), kurtosis near 3.
    #[test]
    fn box_muller_normals_have_standard_normal_moments() {
        let rng = ScenarioRng::new(7);
        let n = 100_000u64;
        let (mut s1, mut s2, mut s4) = (0.0, 0.0, 0.0);
        let mut z = [0.0; 4];
        for i in 0..n {
            rng.normals(i, 0, Stream::Diffusion, &mut z);
            for x in z {
                s1 += x;
                s2 += x * x;
                s4 += x * x * x * x;
            }
        }
        let count = (4 * n) as f64;
        let mean = s1 / count;
        let var = s2 / count;
        assert!(mean.abs() < 5.0 / count.sqrt(), "mean {mean}");
        assert!(
            (var - 1.0).abs() < 5.0 * (2.0 / count).sqrt(),
            "variance {var}"
        );
        assert!(
            (s4 / count - 3.0).abs() < 5.0 * (96.0 / count).sqrt(),
            "fourth moment"
        );
    }

    #[test]
    fn the_sequential_generator_is_reproducible() {
        use rand::Rng;
        let mut a = PhiloxRng::new(99);
        let mut b = PhiloxRng::new(99);
        let xs: Vec<u64> = (0..10).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..10).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(PhiloxRng::new(100).next_u64(), xs[0]);
    }
}
