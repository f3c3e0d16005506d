// Box-Muller and the elementary functions it needs, in f32, mirroring
// src/rng/normal.rs: the same reductions with single-precision polynomials,
// so that the results do not depend on a driver's `log`, `sin` and `cos`
// (Vulkan only bounds those to 2^-11 absolute).
//
// - ln: fdlibm's e_logf.c (u = 2^k m, m in [sqrt(2)/2, sqrt(2)), s = f / (2 + f)),
//   on the complement 1 - u where u is close to 1.
// - sin, cos of 2 pi u: exact reduction of the word in quarter turns, then the Taylor-minimax
//   polynomials of k_sin.c / k_cos.c truncated where their terms fall under
//   half an f32 ulp on [-pi/4, pi/4].
// - exp, expm1: k = round(x / ln 2), r = x - k ln 2 in [-ln2/2, ln2/2], degree-8
//   Taylor for expm1(r), then 2^k (1 + expm1(r)) (minus 1).

const LN2_HI: f32 = 6.9313812256e-01;
const LN2_LO: f32 = 9.0580006145e-06;
const LG1: f32 = 0.66666662693;
const LG2: f32 = 0.40000972152;
const LG3: f32 = 0.28498786688;
const LG4: f32 = 0.24279078841;

const S1: f32 = -1.66666666666666324348e-01;
const S2: f32 = 8.33333333332248946124e-03;
const S3: f32 = -1.98412698298579493134e-04;
const S4: f32 = 2.75573137070700676789e-06;
const C1: f32 = 4.16666666666666019037e-02;
const C2: f32 = -1.38888888888741095749e-03;
const C3: f32 = 2.48015872894767294178e-05;
const C4: f32 = -2.75573143513906633035e-07;

const TAU: f32 = 6.283185307179586;
const INV_LN2: f32 = 1.4426950408889634;

// ln(2^k (1 + f)) for f in [sqrt(2)/2 - 1, sqrt(2) - 1).
fn log_reduced(k: f32, f: f32) -> f32 {
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * LG4);
    let t2 = z * (LG1 + w * LG3);
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    return k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f);
}

// Natural logarithm of a positive, normal, finite x.
fn ln(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    var k = i32((bits >> 23u) & 0xffu) - 127;
    var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
    if m > 1.4142135 {
        m = m * 0.5;
        k = k + 1;
    }
    return log_reduced(f32(k), m - 1.0);
}

// ln u of the word's uniform u = (x + 1/2) / 2^32 to f32 relative accuracy.
// Above sqrt(2)/2 it is ln(1 - v) with v = (2^32 - x - 1/2) / 2^32 = (!x + 1/2) / 2^32,
// which f32 holds to 2^-24 relative where u itself would lose the small v.
fn ln_uniform(x: u32) -> f32 {
    if x >= 0xB504F334u {
        return log_reduced(0.0, -((f32(~x) + 0.5) * 2.3283064365386963e-10));
    }
    return ln(uniform_from_bits(x));
}

// (sin 2 pi u, cos 2 pi u) for the word's uniform u. The reduction to quarter
// turns is done on the word, exactly: q = round(4 u), and the remainder
// u - q / 4 = (x - q 2^30 + 1/2) / 2^32 in [-1/8, 1/8].
fn sin_cos_turns(x: u32) -> vec2<f32> {
    let q = (x >> 30u) + ((x >> 29u) & 1u);
    let r = (f32(bitcast<i32>(x - (q << 30u))) + 0.5) * 2.3283064365386963e-10;
    let t = TAU * r;
    let z = t * t;
    let v = z * t;
    let sin = t + v * (S1 + z * (S2 + z * (S3 + z * S4)));
    let cos = 1.0 - (0.5 * z - z * (z * (C1 + z * (C2 + z * (C3 + z * C4)))));
    var sc = vec2<f32>(sin, cos);
    if (q & 1u) == 1u {
        sc = vec2<f32>(cos, -sin);
    }
    if (q & 2u) == 2u {
        sc = -sc;
    }
    return sc;
}

// Box-Muller on the words of one pair: (r cos, r sin) with r = sqrt(-2 ln u_radius).
fn box_muller(radius: u32, angle: u32) -> vec2<f32> {
    let r = sqrt(-2.0 * ln_uniform(radius));
    let sc = sin_cos_turns(angle);
    return vec2<f32>(r * sc.y, r * sc.x);
}

// The four normals of one Philox block: words (0, 1) and (2, 3) are
// (radius, angle) pairs, each giving (cos, sin) normals in that order,
// as `ScenarioRng::normals` lays them out.
fn block_normals(words: vec4<u32>) -> vec4<f32> {
    let a = box_muller(words.x, words.y);
    let b = box_muller(words.z, words.w);
    return vec4<f32>(a.x, a.y, b.x, b.y);
}

// x = k ln 2 + r with r in [-ln2/2, ln2/2]: (k, expm1(r)).
fn exp_reduced(x: f32) -> vec2<f32> {
    let k = round(x * INV_LN2);
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let p = r + r * r * (0.5 + r * (1.6666667e-1 + r * (4.1666668e-2 + r * (8.3333338e-3
        + r * (1.3888889e-3 + r * (1.9841270e-4 + r * 2.4801587e-5))))));
    return vec2<f32>(clamp(k, -150.0, 150.0), p);
}

// exp(x) - 1 without cancellation near 0.
fn expm1(x: f32) -> f32 {
    let e = exp_reduced(x);
    if e.x == 0.0 {
        return e.y;
    }
    return ldexp(e.y + 1.0, i32(e.x)) - 1.0;
}

// exp(x) to f32 relative accuracy, into the subnormals.
fn exp_f32(x: f32) -> f32 {
    let e = exp_reduced(x);
    return ldexp(e.y + 1.0, i32(e.x));
}
