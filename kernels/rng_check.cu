// The raw Philox words and their normals for a range of scenarios, so that
// tests can hold the device's random numbers against `ScenarioRng` bit for bit;
// mirrors rng_check.wgsl. Needs philox.cuh and normal.cuh.

struct WordsParams {
    unsigned int key[2];
    unsigned int first[2];
    unsigned int count, step, stream, blocks;
};

// Per scenario s and block b, at (s * blocks + b): the four words, then their normals.
extern "C" __global__ void scenario_words(WordsParams p, uint4* words, float4* normals) {
    const unsigned int s = blockIdx.x * blockDim.x + threadIdx.x;
    if (s >= p.count) {
        return;
    }
    const unsigned long long n = ((unsigned long long)p.first[1] << 32 | p.first[0]) + s;
    for (unsigned int b = 0; b < p.blocks; b++) {
        const uint4 w = scenario_bits(make_uint2(p.key[0], p.key[1]), n, p.step, p.stream, b);
        words[s * p.blocks + b] = w;
        normals[s * p.blocks + b] = block_normals(w);
    }
}
