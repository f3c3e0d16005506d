// Monte Carlo scenario generation, one invocation per scenario, mirroring
// `ScenarioModel::draw` (src/scenario/model.rs) step for step in f32. Needs
// philox.wgsl and normal.wgsl.
//
// Arrays are asset-major with row stride `params.stride` (entry a * stride + s
// is asset a in the chunk's scenario s), so neighbouring invocations touch
// neighbouring words. During the draw `returns` holds the log return, `vol_factors`
// the summed diffusion shocks and `scratch` the current normals.

struct ScenarioParams {
    key: vec2<u32>,
    // Global index of the chunk's first scenario, (low, high) words.
    first: vec2<u32>,
    count: u32,
    stride: u32,
    assets: u32,
    steps: u32,
    // Student-t degrees of freedom, 0 for Gaussian innovations.
    dof: u32,
    // Entries of the jump-count table in `indices` (0: no jumps).
    jump_thresholds: u32,
    // Option underlyings in `indices` (0: no vol shock).
    vol_assets: u32,
    vol_highest: u32,
    vol_shock_scale: f32,
    spot_vol_correlation: f32,
    // sqrt(1 - rho^2) and sqrt(steps) (FHS: sqrt(horizon days)), formed in
    // f64 on the host.
    ortho: f32,
    root_steps: f32,
    // Filtered historical simulation: eligible days (0: Monte Carlo) and days
    // per horizon (`FilteredHistory`).
    historical_days: u32,
    horizon_days: u32,
    // Shape of the NIG innovations' mixing variable, 0 for other innovations.
    nig_shape: f32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: ScenarioParams;
// step_drift[A], step_vol[A], jump_mean[A], jump_stdev[A], then the Cholesky
// factor's lower triangle by rows; for FHS then the rescaled moves and the
// innovations, days x A each.
@group(0) @binding(1) var<storage, read> model: array<f32>;
// vol_assets[params.vol_assets], then jump_thresholds[params.jump_thresholds]:
// the jump count of word x is the number of thresholds at or below x.
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> returns: array<f32>;
@group(0) @binding(4) var<storage, read_write> vol_factors: array<f32>;
@group(0) @binding(5) var<storage, read_write> scratch: array<f32>;

fn at(a: u32, s: u32) -> u32 {
    return a * params.stride + s;
}

// Normals 0..count of `stream` at (n, step) into scratch: `ScenarioRng::normals`.
fn fill_normals(n: vec2<u32>, step: u32, stream: u32, count: u32, s: u32) {
    let blocks = (count + 3u) / 4u;
    for (var b = 0u; b < blocks; b++) {
        let z = block_normals(scenario_bits(params.key, n, step, stream, b));
        for (var i = 0u; i < 4u; i++) {
            if 4u * b + i < count {
                scratch[at(4u * b + i, s)] = z[i];
            }
        }
    }
}

// (L z)_i with the terms added in order of j: `ScenarioModel::correlate`.
fn correlate(i: u32, s: u32) -> f32 {
    let row = 4u * params.assets + i * (i + 1u) / 2u;
    var e = 0.0;
    for (var j = 0u; j <= i; j++) {
        e = e + model[row + j] * scratch[at(j, s)];
    }
    return e;
}

// The eligible day a historical draw's word picks: floor((x + 1/2) D / 2^32),
// the CPU's `FilteredHistory::day` computed exactly in integers.
fn historical_day(x: u32) -> u32 {
    let product = mulhilo(x, params.historical_days);
    let half = params.historical_days / 2u;
    return product.x + select(0u, 1u, product.y + half < product.y);
}

// `FilteredHistory::draw`: whole historical days, summed over the horizon.
fn draw_historical(n: vec2<u32>, s: u32) {
    let assets = params.assets;
    let moves_at = 4u * assets + assets * (assets + 1u) / 2u;
    let innovations_at = moves_at + params.historical_days * assets;
    for (var k = 0u; k < params.horizon_days; k++) {
        let d = historical_day(scenario_bits(params.key, n, k, STREAM_HISTORICAL, 0u).x);
        for (var a = 0u; a < assets; a++) {
            returns[at(a, s)] += model[moves_at + d * assets + a];
            vol_factors[at(a, s)] += model[innovations_at + d * assets + a];
        }
    }
}

// `inverse_gaussian` (src/scenario/model.rs) in f32: the mixing variable of
// the NIG innovations from a normal and a uniform. A uniform within about
// 1e-7 of the branch point 1 / (1 + x) may take the other root than the CPU's
// f64 (docs/methodology.md, section 14).
fn inverse_gaussian(lambda: f32, g: f32, u: f32) -> f32 {
    let y = g * g;
    let x = 1.0 - 2.0 * y / max(y + sqrt(y * y + 4.0 * lambda * y), 1.17549435e-38);
    return select(1.0 / x, x, u * (1.0 + x) <= 1.0);
}

fn draw(s: u32) {
    let assets = params.assets;
    let lo = params.first.x + s;
    let n = vec2<u32>(lo, params.first.y + select(0u, 1u, lo < s));
    for (var a = 0u; a < assets; a++) {
        returns[at(a, s)] = 0.0;
        vol_factors[at(a, s)] = 0.0;
    }
    if params.historical_days > 0u {
        draw_historical(n, s);
    }
    let steps = select(params.steps, 0u, params.historical_days > 0u);
    for (var step = 0u; step < steps; step++) {
        fill_normals(n, step, STREAM_DIFFUSION, assets, s);
        var scale = 1.0;
        if params.dof > 0u {
            var w = 0.0;
            for (var b = 0u; b < (params.dof + 3u) / 4u; b++) {
                let g = block_normals(scenario_bits(params.key, n, step, STREAM_CHI_SQUARE, b));
                for (var i = 0u; i < 4u; i++) {
                    if 4u * b + i < params.dof {
                        w = w + g[i] * g[i];
                    }
                }
            }
            scale = sqrt(f32(params.dof - 2u) / w);
        }
        if params.nig_shape > 0.0 {
            let g = block_normals(scenario_bits(params.key, n, step, STREAM_INVERSE_GAUSSIAN, 0u)).x;
            let u = uniform_from_bits(scenario_bits(params.key, n, step, STREAM_INVERSE_GAUSSIAN, 1u).x);
            scale = sqrt(inverse_gaussian(params.nig_shape, g, u));
        }
        // Row i of L z only reads z_0..z_i, so e_i can go straight into the sums.
        for (var a = 0u; a < assets; a++) {
            let e = correlate(a, s) * scale;
            vol_factors[at(a, s)] += e;
            returns[at(a, s)] += model[a] + model[assets + a] * e;
        }
        if params.jump_thresholds > 0u {
            let x = scenario_bits(params.key, n, step, STREAM_JUMP_COUNT, 0u).x;
            var count = 0u;
            for (var k = 0u; k < params.jump_thresholds; k++) {
                count += select(0u, 1u, x >= indices[params.vol_assets + k]);
            }
            if count > 0u {
                fill_normals(n, step, STREAM_JUMP_SIZE, assets, s);
                let k = f32(count);
                let root_k = sqrt(k);
                for (var a = 0u; a < assets; a++) {
                    let e = correlate(a, s);
                    returns[at(a, s)] += k * model[2u * assets + a] + root_k * model[3u * assets + a] * e;
                }
            }
        }
    }
    for (var a = 0u; a < assets; a++) {
        returns[at(a, s)] = expm1(returns[at(a, s)]);
    }
    if params.vol_assets > 0u {
        fill_normals(n, 0u, STREAM_VOL_SHOCK, params.vol_highest + 1u, s);
        let rho = params.spot_vol_correlation;
        for (var v = 0u; v < params.vol_assets; v++) {
            let a = indices[v];
            let zbar = vol_factors[at(a, s)] / params.root_steps;
            scratch[at(a, s)] = exp_f32(params.vol_shock_scale * (rho * zbar + params.ortho * scratch[at(a, s)]));
        }
    }
    for (var a = 0u; a < assets; a++) {
        vol_factors[at(a, s)] = 1.0;
    }
    for (var v = 0u; v < params.vol_assets; v++) {
        let a = indices[v];
        vol_factors[at(a, s)] = scratch[at(a, s)];
    }
}

@compute @workgroup_size(64)
fn draw_scenarios(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    for (var s = id.x; s < params.count; s += groups.x * 64u) {
        draw(s);
    }
}
