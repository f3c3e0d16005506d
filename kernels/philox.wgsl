// Philox4x32-10 (Salmon et al., SC'11, as in Random123), mirroring
// src/rng/philox.rs word for word: WGSL has no 64-bit integers, so the
// 32 x 32 -> 64-bit products are formed from 16-bit halves.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// Stream tags of the counter's last word (src/rng/mod.rs `Stream`).
const STREAM_DIFFUSION: u32 = 0u;
const STREAM_CHI_SQUARE: u32 = 1u;
const STREAM_JUMP_COUNT: u32 = 2u;
const STREAM_JUMP_SIZE: u32 = 3u;
const STREAM_VOL_SHOCK: u32 = 4u;
const STREAM_HISTORICAL: u32 = 6u;
const STREAM_INVERSE_GAUSSIAN: u32 = 7u;

// (high, low) words of a * b.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xffffu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xffffu;
    let b_hi = b >> 16u;
    let lo_lo = a_lo * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_lo = a_hi * b_lo;
    let middle = (lo_lo >> 16u) + (lo_hi & 0xffffu) + (hi_lo & 0xffffu);
    let high = a_hi * b_hi + (lo_hi >> 16u) + (hi_lo >> 16u) + (middle >> 16u);
    return vec2<u32>(high, a * b);
}

fn philox_round(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
    let p0 = mulhilo(PHILOX_M0, c.x);
    let p1 = mulhilo(PHILOX_M1, c.z);
    return vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    c = philox_round(c, k);
    for (var r = 1u; r < 10u; r++) {
        k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
        c = philox_round(c, k);
    }
    return c;
}

// The four words of `block` in `stream` at (scenario, step), the scenario
// index given as (low, high) words: `ScenarioRng::bits`.
fn scenario_bits(key: vec2<u32>, scenario: vec2<u32>, step: u32, stream: u32, block: u32) -> vec4<u32> {
    return philox4x32_10(vec4<u32>(scenario.x, scenario.y, step, (stream << 24u) | block), key);
}

// (x + 1/2) / 2^32 in f32, in (0, 1]: `uniform_from_bits` rounded to f32
// (the top word may round up to 1, whose logarithm and angle are harmless).
fn uniform_from_bits(x: u32) -> f32 {
    return (f32(x) + 0.5) * 2.3283064365386963e-10;
}
