// The raw Philox words and their normals for a range of scenarios, so that
// tests can hold the device's random numbers against `ScenarioRng` bit for bit.
// Needs philox.wgsl and normal.wgsl.

struct WordsParams {
    key: vec2<u32>,
    first: vec2<u32>,
    count: u32,
    step: u32,
    stream: u32,
    blocks: u32,
}

@group(0) @binding(0) var<uniform> params: WordsParams;
// Per scenario s and block b, at (s * blocks + b): the four words, then their normals.
@group(0) @binding(1) var<storage, read_write> words: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> normals: array<vec4<f32>>;

@compute @workgroup_size(64)
fn scenario_words(@builtin(global_invocation_id) id: vec3<u32>) {
    let s = id.x;
    if s >= params.count {
        return;
    }
    let lo = params.first.x + s;
    let n = vec2<u32>(lo, params.first.y + select(0u, 1u, lo < s));
    for (var b = 0u; b < params.blocks; b++) {
        let w = scenario_bits(params.key, n, params.step, params.stream, b);
        words[s * params.blocks + b] = w;
        normals[s * params.blocks + b] = block_normals(w);
    }
}
