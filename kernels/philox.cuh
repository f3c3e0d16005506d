// Philox4x32-10 (Salmon et al., SC'11, as in Random123), mirroring
// src/rng/philox.rs and philox.wgsl word for word.

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

// Stream tags of the counter's last word (src/rng/mod.rs `Stream`).
#define STREAM_DIFFUSION 0u
#define STREAM_CHI_SQUARE 1u
#define STREAM_JUMP_COUNT 2u
#define STREAM_JUMP_SIZE 3u
#define STREAM_VOL_SHOCK 4u
#define STREAM_HISTORICAL 6u
#define STREAM_INVERSE_GAUSSIAN 7u

__device__ __forceinline__ uint4 philox_round(uint4 c, uint2 k) {
    const unsigned int hi0 = __umulhi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
    const unsigned int hi1 = __umulhi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
    return make_uint4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
}

__device__ __forceinline__ uint4 philox4x32_10(uint4 c, uint2 k) {
    c = philox_round(c, k);
#pragma unroll
    for (int r = 1; r < 10; r++) {
        k.x += PHILOX_W0;
        k.y += PHILOX_W1;
        c = philox_round(c, k);
    }
    return c;
}

// The four words of `block` in `stream` at (scenario, step): `ScenarioRng::bits`.
__device__ __forceinline__ uint4 scenario_bits(uint2 key, unsigned long long scenario,
                                               unsigned int step, unsigned int stream,
                                               unsigned int block) {
    return philox4x32_10(make_uint4((unsigned int)scenario, (unsigned int)(scenario >> 32), step,
                                    (stream << 24) | block),
                         key);
}

// (x + 1/2) / 2^32 in f32: `uniform_from_bits` rounded to f32.
__device__ __forceinline__ float uniform_from_bits(unsigned int x) {
    return (__uint2float_rn(x) + 0.5f) * 2.3283064365386963e-10f;
}
