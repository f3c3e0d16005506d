// Box-Muller and the elementary functions it needs, in f32, mirroring
// normal.wgsl and src/rng/normal.rs: the same reductions and polynomials, so
// the device's normals do not depend on its math library.

#define LN2_HI 6.9313812256e-01f
#define LN2_LO 9.0580006145e-06f
#define LG1 0.66666662693f
#define LG2 0.40000972152f
#define LG3 0.28498786688f
#define LG4 0.24279078841f
#define S1 -1.66666666666666324348e-01f
#define S2 8.33333333332248946124e-03f
#define S3 -1.98412698298579493134e-04f
#define S4 2.75573137070700676789e-06f
#define C1 4.16666666666666019037e-02f
#define C2 -1.38888888888741095749e-03f
#define C3 2.48015872894767294178e-05f
#define C4 -2.75573143513906633035e-07f
#define TAU_F 6.283185307179586f
#define INV_LN2 1.4426950408889634f

// ln(2^k (1 + f)) for f in [sqrt(2)/2 - 1, sqrt(2) - 1).
__device__ __forceinline__ float log_reduced(float k, float f) {
    const float s = f / (2.0f + f);
    const float z = s * s;
    const float w = z * z;
    const float r = z * (LG1 + w * LG3) + w * (LG2 + w * LG4);
    const float hfsq = 0.5f * f * f;
    return k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f);
}

// Natural logarithm of a positive, normal, finite x.
__device__ __forceinline__ float ln(float x) {
    const unsigned int bits = __float_as_uint(x);
    int k = (int)((bits >> 23) & 0xffu) - 127;
    float m = __uint_as_float((bits & 0x007fffffu) | 0x3f800000u);
    if (m > 1.4142135f) {
        m *= 0.5f;
        k += 1;
    }
    return log_reduced((float)k, m - 1.0f);
}

// ln u of the word's uniform, through 1 - u where u is close to 1 (see normal.wgsl).
__device__ __forceinline__ float ln_uniform(unsigned int x) {
    if (x >= 0xB504F334u) {
        return log_reduced(0.0f, -((__uint2float_rn(~x) + 0.5f) * 2.3283064365386963e-10f));
    }
    return ln(uniform_from_bits(x));
}

// (sin 2 pi u, cos 2 pi u) of the word's uniform, reduced in quarter turns on the word.
__device__ __forceinline__ float2 sin_cos_turns(unsigned int x) {
    const unsigned int q = (x >> 30) + ((x >> 29) & 1u);
    const float r = ((float)(int)(x - (q << 30)) + 0.5f) * 2.3283064365386963e-10f;
    const float t = TAU_F * r;
    const float z = t * t;
    const float v = z * t;
    const float sin = t + v * (S1 + z * (S2 + z * (S3 + z * S4)));
    const float cos = 1.0f - (0.5f * z - z * (z * (C1 + z * (C2 + z * (C3 + z * C4)))));
    float2 sc = (q & 1u) ? make_float2(cos, -sin) : make_float2(sin, cos);
    if (q & 2u) {
        sc.x = -sc.x;
        sc.y = -sc.y;
    }
    return sc;
}

// The four normals of one Philox block: (radius, angle) word pairs, (cos, sin) each.
__device__ __forceinline__ float4 block_normals(uint4 w) {
    const float ra = sqrtf(-2.0f * ln_uniform(w.x));
    const float2 a = sin_cos_turns(w.y);
    const float rb = sqrtf(-2.0f * ln_uniform(w.z));
    const float2 b = sin_cos_turns(w.w);
    return make_float4(ra * a.y, ra * a.x, rb * b.y, rb * b.x);
}

// x = k ln 2 + r with r in [-ln2/2, ln2/2]: (k, expm1(r)).
__device__ __forceinline__ float2 exp_reduced(float x) {
    const float k = rintf(x * INV_LN2);
    const float r = (x - k * LN2_HI) - k * LN2_LO;
    const float p = r + r * r * (0.5f + r * (1.6666667e-1f + r * (4.1666668e-2f + r * (8.3333338e-3f
        + r * (1.3888889e-3f + r * (1.9841270e-4f + r * 2.4801587e-5f))))));
    return make_float2(fminf(fmaxf(k, -150.0f), 150.0f), p);
}

// exp(x) - 1 without cancellation near 0.
__device__ __forceinline__ float expm1_f32(float x) {
    const float2 e = exp_reduced(x);
    return e.x == 0.0f ? e.y : ldexpf(e.y + 1.0f, (int)e.x) - 1.0f;
}

// exp(x) to f32 relative accuracy, into the subnormals.
__device__ __forceinline__ float exp_f32(float x) {
    const float2 e = exp_reduced(x);
    return ldexpf(e.y + 1.0f, (int)e.x);
}
