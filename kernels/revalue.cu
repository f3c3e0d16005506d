// Revaluation of the compiled book and the members' tail candidates, mirroring
// revalue.wgsl (and through it src/book/series.rs's `OptionSeries` and
// `StrikeGroups`, src/book/mod.rs and the CPU backend's `option_columns` /
// `loss_tile`). `compact_losses`, the tail of the losses after cuBLAS's SGEMM
// (src/backend/cuda/product.rs), has no WGSL mirror. Needs normal.cuh,
// black76.cuh and exact_sum.cuh; the candidate packing is in tail.cu.

// `RevalueParams` of src/backend/device/layout.rs, field for field.
struct RevalueParams {
    unsigned int count, stride, assets, members;
    // gaps: how many of each member's gaps between tail windows are summed
    // into `gaps` instead of kept (exact_sum.cuh); then member m's thresholds
    // are thresholds[m (1 + 2 gaps)..]: its floor, then the gaps' bounds.
    // 0 in WGSL, whose thresholds are the floors alone.
    // groups: the strike groups `option_pnl` values.
    unsigned int groups, holdings, per_member, gaps;
};

// `Group` of src/backend/device/layout.rs: one strike group, whose series are
// series[first..end].
struct Group {
    unsigned int underlying, first, end;
    // carry1 = exp(basis tau1): the horizon forward is spot R carry1;
    // log_moneyness1 = ln(S0 carry1 / K): ln(F1/K) in a scenario is this plus ln R.
    float strike, spot, carry1, root_tau1, vol, log_moneyness1, discount1;
};

// `Series` of src/backend/device/layout.rs: one option series' own terms.
struct Series {
    // The series' row of `pnl`; flags bit 0: call, bit 1: coin-settled (inverse).
    unsigned int column, flags;
    float value0;
};

// `StrikeValues`: a strike's call and put values per unit, and R.
struct StrikeValues {
    float relative, call, put;
};

// `GroupLanes::values`: the call and put values of group `g` in scenario `s`,
// Black-76 on the out-of-the-money side, put-call parity C - P = D (F - K)
// for the other.
__device__ __forceinline__ StrikeValues strike_values(const RevalueParams& p, const Group& g,
                                                      const float* returns,
                                                      const float* vol_factors, unsigned int s) {
    const unsigned long long at = (unsigned long long)g.underlying * p.stride + s;
    const float relative = 1.0f + returns[at];
    const float forward = g.spot * relative * g.carry1;
    const bool call_out = forward < g.strike;
    // The product's order is black76's: (vol x factor) x sqrt(tau1).
    const float out_of_the_money = black76_given_log_moneyness(
        call_out, forward, g.strike, g.log_moneyness1 + ln(relative),
        g.vol * vol_factors[at] * g.root_tau1, g.discount1);
    const float parity = g.discount1 * (forward - g.strike);
    return StrikeValues{relative, call_out ? out_of_the_money : out_of_the_money + parity,
                        call_out ? out_of_the_money - parity : out_of_the_money};
}

// `SeriesLanes::pnl`: the value at the horizon less today's, whose premium a
// coin-settled (inverse) series paid in coin, now worth R times as much.
__device__ __forceinline__ float series_pnl(const Series& o, const StrikeValues& strike) {
    const float v1 = (o.flags & 1u) != 0u ? strike.call : strike.put;
    return (o.flags & 2u) != 0u ? v1 - o.value0 * strike.relative : v1 - o.value0;
}

// `OptionSeries::pnls`: one thread per strike group and scenario values the
// group's series.
extern "C" __global__ void option_pnl(RevalueParams p, const float* returns,
                                      const float* vol_factors, const Group* groups,
                                      const Series* series, float* pnl) {
    const unsigned long long total = (unsigned long long)p.groups * p.count;
    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < total;
         i += (unsigned long long)gridDim.x * blockDim.x) {
        const Group g = groups[i / p.count];
        const unsigned int s = (unsigned int)(i % p.count);
        const StrikeValues strike = strike_values(p, g, returns, vol_factors, s);
        for (unsigned int k = g.first; k < g.end; k++) {
            const Series o = series[k];
            pnl[(unsigned long long)o.column * p.stride + s] = series_pnl(o, strike);
        }
    }
}

#define TILE 64u
#define DEPTH 16u
// Threads per block: 8 x 8, each owning 8 scenarios by 8 members of the tile.
#define THREADS 64u

// Tile-local index of a thread's `i`-th (0..8) scenario or member, for its
// position `t` (0..8) along that axis: two runs of 4, at 4t and 32 + 4t, so
// that the 8 threads of a quarter warp read 8 different float4s that together
// cover the 32 banks once (conflict-free), and one float4 holds each run.
__device__ __forceinline__ unsigned int tile_local(unsigned int t, unsigned int i) {
    return (i & 4u) * 8u + t * 4u + (i & 3u);
}

// The next DEPTH assets' returns and weights of this block's tile, into
// registers: thread `flat` reads column `flat` of each row (coalesced), zero
// outside the book and the chunk.
__device__ __forceinline__ void fetch_slice(const RevalueParams& p, const float* returns,
                                            const float* weights, unsigned int k0,
                                            unsigned int s, unsigned int m, float (&r)[DEPTH],
                                            float (&w)[DEPTH]) {
#pragma unroll
    for (unsigned int k = 0; k < DEPTH; k++) {
        const unsigned int a = k0 + k;
        r[k] = a < p.assets && s < p.count ? returns[(unsigned long long)a * p.stride + s] : 0.0f;
        w[k] = a < p.assets && m < p.members ? weights[(unsigned long long)a * p.members + m] : 0.0f;
    }
}

// What both loss kernels do with thread (tx, ty)'s 8 x 8 asset losses `loss`
// in the tile at scenarios s0.., members m0..: add each member's option
// holdings in order (one FMA each), keep each loss at or above its member's
// floor that no summed gap takes (exact_sum.cuh), and pack the kept ones
// into the members' regions, one global atomic per member and block.
__device__ __forceinline__ void keep_candidates(const RevalueParams& p, float (&loss)[8][8],
                                                unsigned int tx, unsigned int ty,
                                                unsigned int s0, unsigned int m0,
                                                const float* pnl, const unsigned int* holdings,
                                                const float* thresholds,
                                                unsigned int* member_counts, uint2* regions,
                                                const double* constants,
                                                unsigned long long* gaps) {
    __shared__ unsigned int found[TILE];
    __shared__ unsigned int base[TILE];
    const unsigned int flat = 8u * ty + tx;
    const unsigned int holdings_at = p.members + 1, weights_at = holdings_at + p.holdings;
    unsigned long long keep = 0;
#pragma unroll
    for (unsigned int j = 0; j < 8; j++) {
        const unsigned int m = m0 + tile_local(ty, j);
        if (m >= p.members) {
            continue;
        }
        for (unsigned int h = holdings[m]; h < holdings[m + 1]; h++) {
            const unsigned long long column = (unsigned long long)holdings[holdings_at + h] * p.stride;
            const float w = __uint_as_float(holdings[weights_at + h]);
#pragma unroll
            for (unsigned int i = 0; i < 8; i++) {
                const unsigned int s = s0 + tile_local(tx, i);
                if (s < p.count) {
                    loss[j][i] = __fmaf_rn(w, pnl[column + s], loss[j][i]);
                }
            }
        }
        const float* bounds = thresholds + (unsigned long long)m * (1u + 2u * p.gaps);
        const float threshold = bounds[0];
        const double constant = p.gaps != 0u ? constants[m] : 0.0;
        unsigned long long* counters = gaps + (unsigned long long)m * p.gaps * GAP_WORDS;
#pragma unroll
        for (unsigned int i = 0; i < 8; i++) {
            const unsigned int s = s0 + tile_local(tx, i);
            if (s < p.count && !(loss[j][i] < threshold) &&
                !(p.gaps != 0u && sum_in_gap(counters, bounds + 1, p.gaps, loss[j][i], constant))) {
                keep |= 1ull << (8 * j + i);
            }
        }
    }

    // Threads reserve slots in the tile first.
    found[flat] = 0;
    __syncthreads();
    unsigned int offset[8];
#pragma unroll
    for (unsigned int j = 0; j < 8; j++) {
        offset[j] = atomicAdd(&found[tile_local(ty, j)],
                              __popc((unsigned int)(keep >> (8 * j)) & 255u));
    }
    __syncthreads();
    if (m0 + flat < p.members) {
        base[flat] = atomicAdd(&member_counts[m0 + flat], found[flat]);
    }
    __syncthreads();
#pragma unroll
    for (unsigned int j = 0; j < 8; j++) {
        const unsigned int m = m0 + tile_local(ty, j);
        unsigned int slot = base[tile_local(ty, j)] + offset[j];
#pragma unroll
        for (unsigned int i = 0; i < 8; i++) {
            if (keep & (1ull << (8 * j + i))) {
                if (slot < p.per_member) {
                    regions[(unsigned long long)m * p.per_member + slot] =
                        make_uint2(s0 + tile_local(tx, i), __float_as_uint(loss[j][i]));
                }
                slot++;
            }
        }
    }
}

// Scenarios TILE * blockIdx.x.., members TILE * blockIdx.y..; block (64, 1, 1).
// Thread `flat` = 8 ty + tx owns scenarios tile_local(tx, 0..8) by members
// tile_local(ty, 0..8): 64 losses in registers. Per asset it reads two float4
// of returns and two of weights from shared memory for 64 FMAs. The next
// DEPTH assets are fetched from global memory into registers while the
// current ones are multiplied, and stored into the other of two shared
// buffers (one barrier per DEPTH assets).
//
// Each loss is summed as the CPU reference orders it: from 0, the assets in
// increasing order, then the member's option holdings in order, each step one
// explicit FMA (`__fmaf_rn`, rounded once), whatever NVRTC's contraction
// options; zero-padded assets past the book add fma(0, 0, x) = x.
extern "C" __global__ void __launch_bounds__(THREADS)
member_losses(RevalueParams p, const float* returns, const float* pnl, const float* weights,
              const unsigned int* holdings, const float* thresholds,
              unsigned int* member_counts, uint2* regions, const double* constants,
              unsigned long long* gaps) {
    __shared__ float4 tile_returns[2][DEPTH * TILE / 4];
    __shared__ float4 tile_weights[2][DEPTH * TILE / 4];
    const unsigned int flat = threadIdx.x, tx = flat % 8u, ty = flat / 8u;
    const unsigned int s0 = blockIdx.x * TILE, m0 = blockIdx.y * TILE;
    float loss[8][8];
#pragma unroll
    for (unsigned int j = 0; j < 8; j++) {
#pragma unroll
        for (unsigned int i = 0; i < 8; i++) {
            loss[j][i] = 0.0f;
        }
    }
    float next_r[DEPTH], next_w[DEPTH];
    fetch_slice(p, returns, weights, 0, s0 + flat, m0 + flat, next_r, next_w);
#pragma unroll
    for (unsigned int k = 0; k < DEPTH; k++) {
        reinterpret_cast<float*>(tile_returns[0])[k * TILE + flat] = next_r[k];
        reinterpret_cast<float*>(tile_weights[0])[k * TILE + flat] = next_w[k];
    }
    __syncthreads();
    unsigned int buffer = 0;
    for (unsigned int k0 = 0; k0 < p.assets; k0 += DEPTH) {
        const bool more = k0 + DEPTH < p.assets;
        if (more) {
            fetch_slice(p, returns, weights, k0 + DEPTH, s0 + flat, m0 + flat, next_r, next_w);
        }
        const float4* rs = tile_returns[buffer];
        const float4* ws = tile_weights[buffer];
#pragma unroll
        for (unsigned int k = 0; k < DEPTH; k++) {
            const float4 r0 = rs[k * 16 + tx], r1 = rs[k * 16 + 8 + tx];
            const float4 w0 = ws[k * 16 + ty], w1 = ws[k * 16 + 8 + ty];
            const float r[8] = {r0.x, r0.y, r0.z, r0.w, r1.x, r1.y, r1.z, r1.w};
            const float w[8] = {w0.x, w0.y, w0.z, w0.w, w1.x, w1.y, w1.z, w1.w};
#pragma unroll
            for (unsigned int j = 0; j < 8; j++) {
#pragma unroll
                for (unsigned int i = 0; i < 8; i++) {
                    loss[j][i] = __fmaf_rn(w[j], r[i], loss[j][i]);
                }
            }
        }
        if (more) {
            // The other buffer: every thread finished reading it before the
            // barrier that ended the previous slice.
#pragma unroll
            for (unsigned int k = 0; k < DEPTH; k++) {
                reinterpret_cast<float*>(tile_returns[buffer ^ 1u])[k * TILE + flat] = next_r[k];
                reinterpret_cast<float*>(tile_weights[buffer ^ 1u])[k * TILE + flat] = next_w[k];
            }
        }
        __syncthreads();
        buffer ^= 1u;
    }

    keep_candidates(p, loss, tx, ty, s0, m0, pnl, holdings, thresholds, member_counts, regions,
                    constants, gaps);
}

// The same losses with their asset part computed apart, by cuBLAS's SGEMM
// (src/backend/cuda/product.rs): `products[m * rows + s - first]` is member
// m's asset loss in scenario s of the chunk, for the scenarios first.. of
// this launch (a multiple of TILE; `rows` is too). Grid (scenario tiles of
// this launch, member tiles), block (64, 1, 1), as member_losses.
extern "C" __global__ void __launch_bounds__(THREADS)
compact_losses(RevalueParams p, unsigned int first, unsigned int rows, const float* products,
               const float* pnl, const unsigned int* holdings, const float* thresholds,
               unsigned int* member_counts, uint2* regions, const double* constants,
               unsigned long long* gaps) {
    const unsigned int tx = threadIdx.x % 8u, ty = threadIdx.x / 8u;
    const unsigned int s0 = first + blockIdx.x * TILE, m0 = blockIdx.y * TILE;
    float loss[8][8];
#pragma unroll
    for (unsigned int j = 0; j < 8; j++) {
        const unsigned int m = m0 + tile_local(ty, j);
        // Each run of 4 scenarios is one aligned float4 (rows, first and s0
        // are multiples of TILE); past the chunk's count it holds values
        // keep_candidates never reads.
        const float4* run = reinterpret_cast<const float4*>(
            products + (unsigned long long)min(m, p.members - 1u) * rows + (s0 - first));
        const float4 a = run[tx], b = run[8u + tx];
        const float row[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
#pragma unroll
        for (unsigned int i = 0; i < 8; i++) {
            loss[j][i] = m < p.members ? row[i] : 0.0f;
        }
    }
    keep_candidates(p, loss, tx, ty, s0, m0, pnl, holdings, thresholds, member_counts, regions,
                    constants, gaps);
}
