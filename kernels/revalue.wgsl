// Revaluation of the compiled book and the members' tail candidates, mirroring
// src/book/series.rs (`OptionSeries`, `StrikeGroups`), src/book/mod.rs and the
// CPU backend's `option_columns` / `loss_tile`. Needs normal.wgsl and
// black76.wgsl.
//
// `option_pnl` writes each option series' P&L per unit, series-major, from one
// Black-76 evaluation per strike group and scenario.
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
    // Strike groups.
    groups: u32,
    holdings: u32,
    // Candidates each member's region holds.
    per_member: u32,
    // Always 0 here: WGSL has no f64, so every loss above the floors comes
    // back (revalue.cu sums those in the gaps between windows).
    gaps: u32,
}

// `StrikeGroups` of src/book/series.rs, one group: the series of one
// underlying, expiry and strike, series[first..end].
struct Group {
    underlying: u32,
    first: u32,
    end: u32,
    strike: f32,
    spot: f32,
    // exp(basis tau1): the horizon forward is spot R carry1.
    carry1: f32,
    root_tau1: f32,
    vol: f32,
    // ln(S0 carry1 / K): ln(F1/K) in a scenario is this plus ln R.
    log_moneyness1: f32,
    discount1: f32,
}

// `OptionSeries` of src/book/series.rs, one series' own terms.
struct Series {
    // The series' row of `pnl`.
    column: u32,
    // Bit 0: call, bit 1: coin-settled (inverse).
    flags: u32,
    value0: f32,
}

@group(0) @binding(0) var<uniform> params: RevalueParams;
@group(0) @binding(1) var<storage, read> returns: array<f32>;
@group(0) @binding(2) var<storage, read> vol_factors: array<f32>;
@group(0) @binding(3) var<storage, read> series: array<Series>;
@group(0) @binding(12) var<storage, read> strike_groups: array<Group>;
@group(0) @binding(4) var<storage, read_write> pnl: array<f32>;
// Assets x members, asset-major.
@group(0) @binding(5) var<storage, read> weights: array<f32>;
// offsets[members + 1], then series[holdings], then f32 weight bits[holdings].
@group(0) @binding(6) var<storage, read> holdings: array<u32>;
@group(0) @binding(7) var<storage, read> thresholds: array<f32>;

// `StrikeValues`: a strike's call and put values per unit, and R.
struct StrikeValues {
    relative: f32,
    call: f32,
    put: f32,
}

// `GroupLanes::values`: the call and put values of group `g` in scenario `s`,
// Black-76 on the out-of-the-money side, put-call parity C - P = D (F - K)
// for the other.
fn strike_values(g: Group, s: u32) -> StrikeValues {
    let at = g.underlying * params.stride + s;
    let relative = 1.0 + returns[at];
    let forward = g.spot * relative * g.carry1;
    let call_out = forward < g.strike;
    // The product's order is black76's: (vol x factor) x sqrt(tau1).
    let out_of_the_money = black76_given_log_moneyness(call_out, forward, g.strike,
        g.log_moneyness1 + ln(relative), g.vol * vol_factors[at] * g.root_tau1, g.discount1);
    let parity = g.discount1 * (forward - g.strike);
    return StrikeValues(
        relative,
        select(out_of_the_money + parity, out_of_the_money, call_out),
        select(out_of_the_money, out_of_the_money - parity, call_out),
    );
}

// `SeriesLanes::pnl`: the value at the horizon less today's, whose premium a
// coin-settled (inverse) series paid in coin, now worth R times as much.
fn series_pnl(o: Series, strike: StrikeValues) -> f32 {
    let v1 = select(strike.put, strike.call, (o.flags & 1u) != 0u);
    if (o.flags & 2u) != 0u {
        return v1 - o.value0 * strike.relative;
    }
    return v1 - o.value0;
}

// `OptionSeries::pnls`: one invocation per strike group and scenario values
// the group's series.
@compute @workgroup_size(64)
fn option_pnl(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
) {
    let total = params.groups * params.count;
    for (var i = id.x; i < total; i += workgroups.x * 64u) {
        let g = strike_groups[i / params.count];
        let s = i % params.count;
        let strike = strike_values(g, s);
        for (var k = g.first; k < g.end; k++) {
            let o = series[k];
            pnl[o.column * params.stride + s] = series_pnl(o, strike);
        }
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
