// Tail candidates grouped by member, mirroring tail.wgsl: `scan_counts` turns
// the members' candidate counts into offsets of a packed list (offsets[members]
// is the total, offsets[members + 1] the largest count, which may exceed the
// regions: the host then redraws the chunk in halves), and `gather_candidates`
// packs each member's region into it. Needs revalue.cu (RevalueParams).

#define SCAN 256u

// One block of SCAN threads.
extern "C" __global__ void scan_counts(RevalueParams p, const unsigned int* member_counts,
                                       unsigned int* offsets) {
    __shared__ unsigned int partial[SCAN];
    __shared__ unsigned int widest;
    const unsigned int t = threadIdx.x;
    const unsigned int run = (p.members + SCAN - 1) / SCAN;
    const unsigned int first = min(t * run, p.members), last = min(first + run, p.members);
    unsigned int sum = 0, most = 0;
    for (unsigned int m = first; m < last; m++) {
        sum += min(member_counts[m], p.per_member);
        most = max(most, member_counts[m]);
    }
    partial[t] = sum;
    if (t == 0) {
        widest = 0;
    }
    __syncthreads();
    atomicMax(&widest, most);
    if (t == 0) {
        unsigned int total = 0;
        for (unsigned int i = 0; i < SCAN; i++) {
            const unsigned int x = partial[i];
            partial[i] = total;
            total += x;
        }
    }
    __syncthreads();
    unsigned int at = partial[t];
    for (unsigned int m = first; m < last; m++) {
        offsets[m] = at;
        at += min(member_counts[m], p.per_member);
    }
    if (t == SCAN - 1) {
        offsets[p.members] = at;
        offsets[p.members + 1] = widest;
    }
}

extern "C" __global__ void gather_candidates(RevalueParams p, const uint2* regions,
                                             const unsigned int* offsets, uint2* list) {
    for (unsigned int m = blockIdx.x; m < p.members; m += gridDim.x) {
        const unsigned int n = offsets[m + 1] - offsets[m];
        for (unsigned int i = threadIdx.x; i < n; i += blockDim.x) {
            list[offsets[m] + i] = regions[(unsigned long long)m * p.per_member + i];
        }
    }
}
