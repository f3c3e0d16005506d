// Monte Carlo and filtered historical scenarios, one thread per scenario, mirroring
// scenario.wgsl and `ScenarioModel::draw` (src/scenario/model.rs). Needs
// philox.cuh and normal.cuh. Asset-major arrays with row stride p.stride; during
// the draw `returns` holds log returns, `vol_factors` the summed diffusion shocks
// and `scratch` the current normals.

// `ScenarioParams` of src/backend/wgpu/layout.rs, field for field.
struct ScenarioParams {
    unsigned int key[2];
    unsigned int first[2];
    unsigned int count, stride, assets, steps;
    unsigned int dof, jump_thresholds, vol_assets, vol_highest;
    float vol_shock_scale, spot_vol_correlation, ortho, root_steps;
    // Filtered historical simulation: eligible days (0: Monte Carlo), days per horizon.
    unsigned int historical_days, horizon_days;
    // Shape of the NIG innovations' mixing variable, 0 for other innovations.
    float nig_shape;
    unsigned int pad;
};

// `inverse_gaussian` (src/scenario/model.rs) in f32: the mixing variable of
// the NIG innovations from a normal and a uniform. A uniform within about
// 1e-7 of the branch point 1 / (1 + x) may take the other root than the CPU's
// f64 (docs/methodology.md, section 14).
__device__ __forceinline__ float inverse_gaussian(float lambda, float g, float u) {
    const float y = g * g;
    const float x = 1.0f - 2.0f * y / fmaxf(y + sqrtf(y * y + 4.0f * lambda * y), 1.17549435e-38f);
    return u * (1.0f + x) <= 1.0f ? x : 1.0f / x;
}

// The eligible day a historical draw's word picks: floor((x + 1/2) D / 2^32),
// the CPU's `FilteredHistory::day` computed exactly in integers.
__device__ __forceinline__ unsigned int historical_day(const ScenarioParams& p, unsigned int x) {
    const unsigned long long product = (unsigned long long)x * p.historical_days;
    return (unsigned int)((product + p.historical_days / 2) >> 32);
}

__device__ __forceinline__ void fill_normals(const ScenarioParams& p, unsigned long long n,
                                             unsigned int step, unsigned int stream,
                                             unsigned int count, unsigned int s, float* scratch) {
    const uint2 key = make_uint2(p.key[0], p.key[1]);
    for (unsigned int b = 0; b < (count + 3) / 4; b++) {
        const float4 z = block_normals(scenario_bits(key, n, step, stream, b));
        const float zs[4] = {z.x, z.y, z.z, z.w};
        for (unsigned int i = 0; i < 4 && 4 * b + i < count; i++) {
            scratch[(4 * b + i) * p.stride + s] = zs[i];
        }
    }
}

// (L z)_i with the terms added in order of j: `ScenarioModel::correlate`.
__device__ __forceinline__ float correlate(const ScenarioParams& p, const float* model,
                                           const float* scratch, unsigned int i, unsigned int s) {
    const float* row = model + 4 * p.assets + i * (i + 1) / 2;
    float e = 0.0f;
    for (unsigned int j = 0; j <= i; j++) {
        e += row[j] * scratch[j * p.stride + s];
    }
    return e;
}

__device__ void draw(const ScenarioParams& p, const float* model, const unsigned int* indices,
                     float* returns, float* vol_factors, float* scratch, unsigned int s) {
    const unsigned int assets = p.assets;
    const uint2 key = make_uint2(p.key[0], p.key[1]);
    const unsigned long long n =
        ((unsigned long long)p.first[1] << 32 | p.first[0]) + (unsigned long long)s;
    for (unsigned int a = 0; a < assets; a++) {
        returns[a * p.stride + s] = 0.0f;
        vol_factors[a * p.stride + s] = 0.0f;
    }
    if (p.historical_days > 0) {
        // `FilteredHistory::draw`: whole historical days, summed over the horizon.
        const float* moves = model + 4 * assets + assets * (assets + 1) / 2;
        const float* innovations = moves + (unsigned long long)p.historical_days * assets;
        for (unsigned int k = 0; k < p.horizon_days; k++) {
            const unsigned int d = historical_day(p, scenario_bits(key, n, k, STREAM_HISTORICAL, 0).x);
            for (unsigned int a = 0; a < assets; a++) {
                returns[a * p.stride + s] += moves[(unsigned long long)d * assets + a];
                vol_factors[a * p.stride + s] += innovations[(unsigned long long)d * assets + a];
            }
        }
    }
    const unsigned int steps = p.historical_days > 0 ? 0 : p.steps;
    for (unsigned int step = 0; step < steps; step++) {
        fill_normals(p, n, step, STREAM_DIFFUSION, assets, s, scratch);
        float scale = 1.0f;
        if (p.dof > 0) {
            float w = 0.0f;
            for (unsigned int b = 0; b < (p.dof + 3) / 4; b++) {
                const float4 g = block_normals(scenario_bits(key, n, step, STREAM_CHI_SQUARE, b));
                const float gs[4] = {g.x, g.y, g.z, g.w};
                for (unsigned int i = 0; i < 4 && 4 * b + i < p.dof; i++) {
                    w += gs[i] * gs[i];
                }
            }
            scale = sqrtf((float)(p.dof - 2) / w);
        }
        if (p.nig_shape > 0.0f) {
            const float g = block_normals(scenario_bits(key, n, step, STREAM_INVERSE_GAUSSIAN, 0)).x;
            const float u = uniform_from_bits(scenario_bits(key, n, step, STREAM_INVERSE_GAUSSIAN, 1).x);
            scale = sqrtf(inverse_gaussian(p.nig_shape, g, u));
        }
        for (unsigned int a = 0; a < assets; a++) {
            const float e = correlate(p, model, scratch, a, s) * scale;
            vol_factors[a * p.stride + s] += e;
            returns[a * p.stride + s] += model[a] + model[assets + a] * e;
        }
        if (p.jump_thresholds > 0) {
            const unsigned int x = scenario_bits(key, n, step, STREAM_JUMP_COUNT, 0).x;
            unsigned int count = 0;
            for (unsigned int k = 0; k < p.jump_thresholds; k++) {
                count += x >= indices[p.vol_assets + k] ? 1u : 0u;
            }
            if (count > 0) {
                fill_normals(p, n, step, STREAM_JUMP_SIZE, assets, s, scratch);
                const float k = (float)count;
                const float root_k = sqrtf(k);
                for (unsigned int a = 0; a < assets; a++) {
                    const float e = correlate(p, model, scratch, a, s);
                    returns[a * p.stride + s] += k * model[2 * assets + a] + root_k * model[3 * assets + a] * e;
                }
            }
        }
    }
    for (unsigned int a = 0; a < assets; a++) {
        returns[a * p.stride + s] = expm1_f32(returns[a * p.stride + s]);
    }
    if (p.vol_assets > 0) {
        fill_normals(p, n, 0, STREAM_VOL_SHOCK, p.vol_highest + 1, s, scratch);
        for (unsigned int v = 0; v < p.vol_assets; v++) {
            const unsigned int a = indices[v];
            const float zbar = vol_factors[a * p.stride + s] / p.root_steps;
            scratch[a * p.stride + s] = exp_f32(
                p.vol_shock_scale * (p.spot_vol_correlation * zbar + p.ortho * scratch[a * p.stride + s]));
        }
    }
    for (unsigned int a = 0; a < assets; a++) {
        vol_factors[a * p.stride + s] = 1.0f;
    }
    for (unsigned int v = 0; v < p.vol_assets; v++) {
        const unsigned int a = indices[v];
        vol_factors[a * p.stride + s] = scratch[a * p.stride + s];
    }
}

extern "C" __global__ void draw_scenarios(ScenarioParams p, const float* model,
                                          const unsigned int* indices, float* returns,
                                          float* vol_factors, float* scratch) {
    for (unsigned int s = blockIdx.x * blockDim.x + threadIdx.x; s < p.count;
         s += gridDim.x * blockDim.x) {
        draw(p, model, indices, returns, vol_factors, scratch, s);
    }
}
