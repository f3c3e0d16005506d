// Tail candidates, grouped by member on the device so that the host pushes
// each member's list straight into its `MemberTail` (`push_candidates`), in
// parallel and without sorting. Shares its bindings and `params` with
// revalue.wgsl.
//
// `member_losses` appends member m's candidates to its region
// regions[m * per_member ..], counting them in member_counts[m] (the count may
// exceed the region: the host then runs the chunk again in halves).
// `scan_counts` turns the counts into offsets of a packed list, and
// `gather_candidates` packs the regions into it: list[offsets[m] ..
// offsets[m + 1]] are member m's (scenario in the chunk, loss bits) pairs.

@group(0) @binding(8) var<storage, read_write> member_counts: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read_write> regions: array<vec2<u32>>;
// offsets[members + 1], then the largest count of any member.
@group(0) @binding(10) var<storage, read_write> offsets: array<u32>;
@group(0) @binding(11) var<storage, read_write> list: array<vec2<u32>>;

const SCAN: u32 = 256u;

var<workgroup> partial: array<u32, 256>;
var<workgroup> widest: atomic<u32>;

// One workgroup: each invocation sums a run of members, the runs are scanned,
// then each invocation writes its run's offsets.
@compute @workgroup_size(256)
fn scan_counts(@builtin(local_invocation_index) t: u32) {
    let members = params.members;
    let run = (members + SCAN - 1u) / SCAN;
    let first = min(t * run, members);
    let last = min(first + run, members);
    var sum = 0u;
    var most = 0u;
    for (var m = first; m < last; m++) {
        let c = atomicLoad(&member_counts[m]);
        sum += min(c, params.per_member);
        most = max(most, c);
    }
    partial[t] = sum;
    if t == 0u {
        atomicStore(&widest, 0u);
    }
    workgroupBarrier();
    atomicMax(&widest, most);
    if t == 0u {
        var total = 0u;
        for (var i = 0u; i < SCAN; i++) {
            let p = partial[i];
            partial[i] = total;
            total += p;
        }
    }
    workgroupBarrier();
    var at = partial[t];
    for (var m = first; m < last; m++) {
        offsets[m] = at;
        at += min(atomicLoad(&member_counts[m]), params.per_member);
    }
    if t == SCAN - 1u {
        offsets[members] = at;
        offsets[members + 1u] = atomicLoad(&widest);
    }
}

@compute @workgroup_size(64)
fn gather_candidates(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    for (var m = group.x; m < params.members; m += groups.x) {
        let n = offsets[m + 1u] - offsets[m];
        for (var i = t; i < n; i += 64u) {
            list[offsets[m] + i] = regions[m * params.per_member + i];
        }
    }
}
