// Revaluation of the compiled book and the members' tail candidates, mirroring
// revalue.wgsl (and through it src/book/mod.rs and the CPU backend's
// `option_columns` / `loss_tile`). Needs normal.cuh and black76.cuh; the
// candidate packing is in tail.cu.

// `RevalueParams` of src/backend/wgpu/layout.rs, field for field.
struct RevalueParams {
    unsigned int count, stride, assets, members;
    unsigned int series, holdings, per_member, pad;
};

// `Series` of src/backend/wgpu/layout.rs: one option series.
struct Series {
    unsigned int underlying;
    // Bit 0: call, bit 1: coin-settled (inverse).
    unsigned int flags;
    float strike, forward, tau1, vol, discount1, value0;
};

// `OptionSeries::pnl`.
__device__ __forceinline__ float series_pnl(const RevalueParams& p, const Series& o,
                                            const float* returns, const float* vol_factors,
                                            unsigned int s) {
    const float relative = 1.0f + returns[o.underlying * p.stride + s];
    const float v1 = black76((o.flags & 1u) != 0u, o.forward * relative, o.strike,
                             o.vol * vol_factors[o.underlying * p.stride + s], o.tau1, o.discount1);
    return (o.flags & 2u) != 0u ? v1 - o.value0 * relative : v1 - o.value0;
}

extern "C" __global__ void option_pnl(RevalueParams p, const float* returns,
                                      const float* vol_factors, const Series* series, float* pnl) {
    const unsigned long long total = (unsigned long long)p.series * p.count;
    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < total;
         i += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned int j = (unsigned int)(i / p.count);
        const unsigned int s = (unsigned int)(i % p.count);
        pnl[(unsigned long long)j * p.stride + s] = series_pnl(p, series[j], returns, vol_factors, s);
    }
}

#define TILE 64u
#define DEPTH 16u

// Scenarios TILE * blockIdx.x.., members TILE * blockIdx.y..; each thread owns
// 4 scenarios (threadIdx.x) by 4 members (threadIdx.y). Block (16, 16).
extern "C" __global__ void member_losses(RevalueParams p, const float* returns, const float* pnl,
                                         const float* weights, const unsigned int* holdings,
                                         const float* thresholds, unsigned int* member_counts,
                                         uint2* regions) {
    __shared__ float tile_returns[DEPTH * TILE];
    __shared__ float tile_weights[DEPTH * TILE];
    __shared__ unsigned int found[TILE];
    __shared__ unsigned int base[TILE];
    const unsigned int flat = threadIdx.y * 16 + threadIdx.x;
    const unsigned int s0 = blockIdx.x * TILE, m0 = blockIdx.y * TILE;
    float loss[4][4] = {};
    for (unsigned int k0 = 0; k0 < p.assets; k0 += DEPTH) {
        for (unsigned int i = 0; i < 4; i++) {
            const unsigned int e = flat + i * 256;
            const unsigned int a = k0 + e / TILE, s = s0 + e % TILE, m = m0 + e % TILE;
            tile_returns[e] = a < p.assets && s < p.count ? returns[a * p.stride + s] : 0.0f;
            tile_weights[e] = a < p.assets && m < p.members ? weights[a * p.members + m] : 0.0f;
        }
        __syncthreads();
#pragma unroll 4
        for (unsigned int k = 0; k < DEPTH; k++) {
            for (unsigned int j = 0; j < 4; j++) {
                const float w = tile_weights[k * TILE + threadIdx.y * 4 + j];
                for (unsigned int i = 0; i < 4; i++) {
                    loss[j][i] += w * tile_returns[k * TILE + threadIdx.x * 4 + i];
                }
            }
        }
        __syncthreads();
    }

    const unsigned int holdings_at = p.members + 1, weights_at = holdings_at + p.holdings;
    unsigned int keep = 0;
    for (unsigned int j = 0; j < 4; j++) {
        const unsigned int m = m0 + threadIdx.y * 4 + j;
        if (m >= p.members) {
            continue;
        }
        for (unsigned int h = holdings[m]; h < holdings[m + 1]; h++) {
            const unsigned long long column = (unsigned long long)holdings[holdings_at + h] * p.stride;
            const float w = __uint_as_float(holdings[weights_at + h]);
            for (unsigned int i = 0; i < 4; i++) {
                const unsigned int s = s0 + threadIdx.x * 4 + i;
                if (s < p.count) {
                    loss[j][i] += w * pnl[column + s];
                }
            }
        }
        for (unsigned int i = 0; i < 4; i++) {
            const unsigned int s = s0 + threadIdx.x * 4 + i;
            if (s < p.count && !(loss[j][i] < thresholds[m])) {
                keep |= 1u << (4 * j + i);
            }
        }
    }

    // One global atomic per member and block: threads reserve slots in the tile first.
    if (flat < TILE) {
        found[flat] = 0;
    }
    __syncthreads();
    unsigned int offset[4];
    for (unsigned int j = 0; j < 4; j++) {
        offset[j] = atomicAdd(&found[threadIdx.y * 4 + j], __popc((keep >> (4 * j)) & 15u));
    }
    __syncthreads();
    if (flat < TILE && m0 + flat < p.members) {
        base[flat] = atomicAdd(&member_counts[m0 + flat], found[flat]);
    }
    __syncthreads();
    for (unsigned int j = 0; j < 4; j++) {
        const unsigned int m = m0 + threadIdx.y * 4 + j;
        unsigned int slot = base[threadIdx.y * 4 + j] + offset[j];
        for (unsigned int i = 0; i < 4; i++) {
            if (keep & (1u << (4 * j + i))) {
                if (slot < p.per_member) {
                    regions[(unsigned long long)m * p.per_member + slot] =
                        make_uint2(s0 + threadIdx.x * 4 + i, __float_as_uint(loss[j][i]));
                }
                slot++;
            }
        }
    }
}
