// Revaluation of the compiled book and the members' tail candidates, mirroring
// src/book/mod.rs and the CPU backend's `option_columns` / `loss_tile`. Needs
// normal.wgsl and black76.wgsl.
//
// `option_pnl` writes each option series' P&L per unit, series-major.
// `member_losses` forms the varying part of each member's loss,
//     sum_a weights[a, m] returns[a, s] + sum_{j held by m} w_mj pnl[j, s],
// as a 64 x 64 tiled product, and keeps only what can reach the member's tail:
// losses not below `thresholds[m]` (NaN included) go to the member's region of
// tail candidates (tail.wgsl). The scenario x member matrix never leaves the
// device.

struct RevalueParams {
    count: u32,
    stride: u32,
    assets: u32,
    members: u32,
    series: u32,
    holdings: u32,
    // Candidates each member's region holds.
    per_member: u32,
    // Always 0 here: WGSL has no f64, so every loss above the floors comes
    // back (revalue.cu sums those in the gaps between windows).
    gaps: u32,
}

// `OptionSeries` of src/book/mod.rs, one series.
struct Series {
    underlying: u32,
    // Bit 0: call, bit 1: coin-settled (inverse).
    flags: u32,
    strike: f32,
    // Spot times exp(basis tau1): the horizon forward per unit of price relative.
    forward: f32,
    tau1: f32,
    vol: f32,
    discount1: f32,
    value0: f32,
}

@group(0) @binding(0) var<uniform> params: RevalueParams;
@group(0) @binding(1) var<storage, read> returns: array<f32>;
@group(0) @binding(2) var<storage, read> vol_factors: array<f32>;
@group(0) @binding(3) var<storage, read> series: array<Series>;
@group(0) @binding(4) var<storage, read_write> pnl: array<f32>;
// Assets x members, asset-major.
@group(0) @binding(5) var<storage, read> weights: array<f32>;
// offsets[members + 1], then series[holdings], then f32 weight bits[holdings].
@group(0) @binding(6) var<storage, read> holdings: array<u32>;
@group(0) @binding(7) var<storage, read> thresholds: array<f32>;

// `OptionSeries::pnl`.
fn series_pnl(j: u32, s: u32) -> f32 {
    let o = series[j];
    let a = o.underlying;
    let relative = 1.0 + returns[a * params.stride + s];
    let v1 = black76((o.flags & 1u) != 0u, o.forward * relative, o.strike,
        o.vol * vol_factors[a * params.stride + s], o.tau1, o.discount1);
    if (o.flags & 2u) != 0u {
        return v1 - o.value0 * relative;
    }
    return v1 - o.value0;
}

@compute @workgroup_size(64)
fn option_pnl(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let total = params.series * params.count;
    for (var i = id.x; i < total; i += groups.x * 64u) {
        let j = i / params.count;
        let s = i % params.count;
        pnl[j * params.stride + s] = series_pnl(j, s);
    }
}

const TILE: u32 = 64u;
const DEPTH: u32 = 16u;

var<workgroup> tile_returns: array<f32, 1024>;
var<workgroup> tile_weights: array<f32, 1024>;
// Per member of the tile: candidates found, then the first free slot of its region.
var<workgroup> found: array<atomic<u32>, 64>;
var<workgroup> base: array<u32, 64>;

// Scenarios TILE * workgroup.x.., members TILE * workgroup.y..; each
// invocation owns 4 scenarios (local x) by 4 members (local y).
@compute @workgroup_size(16, 16)
fn member_losses(
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(local_invocation_index) flat: u32,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let s0 = group.x * TILE;
    let m0 = group.y * TILE;
    var loss: array<array<f32, 4>, 4>;
    for (var k0 = 0u; k0 < params.assets; k0 += DEPTH) {
        for (var i = 0u; i < 4u; i++) {
            let e = flat + i * 256u;
            let a = k0 + e / TILE;
            let s = s0 + e % TILE;
            let m = m0 + e % TILE;
            var r = 0.0;
            if a < params.assets && s < params.count {
                r = returns[a * params.stride + s];
            }
            tile_returns[e] = r;
            var w = 0.0;
            if a < params.assets && m < params.members {
                w = weights[a * params.members + m];
            }
            tile_weights[e] = w;
        }
        workgroupBarrier();
        for (var k = 0u; k < DEPTH; k++) {
            for (var j = 0u; j < 4u; j++) {
                let w = tile_weights[k * TILE + local.y * 4u + j];
                for (var i = 0u; i < 4u; i++) {
                    loss[j][i] += w * tile_returns[k * TILE + local.x * 4u + i];
                }
            }
        }
        workgroupBarrier();
    }

    let holdings_at = params.members + 1u;
    let weights_at = holdings_at + params.holdings;
    var keep = 0u;
    for (var j = 0u; j < 4u; j++) {
        let m = m0 + local.y * 4u + j;
        if m >= params.members {
            continue;
        }
        for (var h = holdings[m]; h < holdings[m + 1u]; h++) {
            let column = holdings[holdings_at + h] * params.stride;
            let w = bitcast<f32>(holdings[weights_at + h]);
            for (var i = 0u; i < 4u; i++) {
                let s = s0 + local.x * 4u + i;
                if s < params.count {
                    loss[j][i] += w * pnl[column + s];
                }
            }
        }
        for (var i = 0u; i < 4u; i++) {
            let s = s0 + local.x * 4u + i;
            if s < params.count && !(loss[j][i] < thresholds[m]) {
                keep |= 1u << (4u * j + i);
            }
        }
    }

    // One global atomic per member and workgroup: invocations reserve slots
    // in the tile first.
    if flat < TILE {
        atomicStore(&found[flat], 0u);
    }
    workgroupBarrier();
    var offset: array<u32, 4>;
    for (var j = 0u; j < 4u; j++) {
        offset[j] = atomicAdd(&found[local.y * 4u + j], countOneBits((keep >> (4u * j)) & 15u));
    }
    workgroupBarrier();
    if flat < TILE && m0 + flat < params.members {
        base[flat] = atomicAdd(&member_counts[m0 + flat], atomicLoad(&found[flat]));
    }
    workgroupBarrier();
    for (var j = 0u; j < 4u; j++) {
        let m = m0 + local.y * 4u + j;
        var slot = base[local.y * 4u + j] + offset[j];
        for (var i = 0u; i < 4u; i++) {
            if (keep & (1u << (4u * j + i))) != 0u {
                if slot < params.per_member {
                    regions[m * params.per_member + slot] =
                        vec2<u32>(s0 + local.x * 4u + i, bitcast<u32>(loss[j][i]));
                }
                slot++;
            }
        }
    }
}
