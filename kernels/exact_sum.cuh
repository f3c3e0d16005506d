// Exact sums on the device, mirroring src/tail/exact_sum.rs: the losses in the
// gaps between a member's tail windows are counted and summed here instead of
// being read back (MemberTail's gaps keep only their count, sum and sum of
// squares).
//
// `ExactSum::add(x)` truncates |x| once to a multiple of 2^-96 and adds it to
// a 256-bit two's-complement integer. Here the truncated magnitude of a
// positive (or negative) addend is cut into eight 32-bit digits, and each
// digit is added to its own 64-bit counter: no carry crosses counters, so the
// atomics need no answer (the GPU fires them and goes on; an atomic whose old
// value a thread waited for would stall the warp once per addend), and a
// counter takes 2^32 addends before it could wrap, against the at most 2^32
// scenarios of a chunk. Integer addition is exact and commutative: the
// counters do not depend on the order the threads add in, and the host's
// sum of digit x 2^(32 d), positive less negative
// (`ExactSum::from_digit_sums`), equals, bit for bit, the ExactSum of the
// same values added one by one on the host.

// A gap's counters: the count, then the sum's positive and negative digits,
// then the sum of squares' (src/backend/device/gap.rs).
#define GAP_WORDS 33u
#define GAP_SUM 1u
#define GAP_SQUARES 17u

__device__ __forceinline__ void add_digit(unsigned long long* counter, unsigned int digit) {
    if (digit != 0u) {
        atomicAdd(counter, (unsigned long long)digit);
    }
}

// `ExactSum::add(x)`: x's magnitude truncated to a multiple of 2^-96, its
// digits added to `digits` (16 counters: positive, then negative).
__device__ __forceinline__ void exact_add(unsigned long long* digits, double x) {
    const unsigned long long bits = (unsigned long long)__double_as_longlong(x);
    const int biased = (int)((bits >> 52) & 0x7ffull);
    unsigned long long mantissa = bits & 0xfffffffffffffull;
    int exponent = -1074;
    if (biased != 0) {
        mantissa |= 1ull << 52;
        exponent = biased - 1075;
    }
    int shift = exponent + 96;
    if (shift < 0) {
        if (shift <= -64) {
            return;
        }
        mantissa >>= -shift;
        shift = 0;
    }
    unsigned long long* acc = digits + ((bits >> 63) != 0ull ? 8u : 0u);
    const unsigned int word = (unsigned int)shift / 32u, offset = (unsigned int)shift % 32u;
    // mantissa << offset spans up to 85 bits: `low` its first 64, `high` the
    // rest. |x| < 2^128 (a square of a loss in range) keeps word + 2 < 8.
    const unsigned long long low = mantissa << offset;
    const unsigned int high = offset != 0u ? (unsigned int)(mantissa >> (64u - offset)) : 0u;
    add_digit(&acc[word], (unsigned int)low);
    add_digit(&acc[word + 1u], (unsigned int)(low >> 32));
    if (word + 2u < 8u) {
        add_digit(&acc[word + 2u], high);
    }
}

// Whether member loss `v` (its constant left out, as the candidates carry it)
// lies in one of the member's first `gaps` gaps between its tail windows, and
// was summed there. Gap g holds the losses above window g and below window
// g - 1 (gap 0: above the top window); `bounds` are the member's (low_g,
// high_g) pairs: the least f32 whose loss fl(v + constant) exceeds window g's
// upper end, and the least whose loss reaches window g - 1's lower end (+inf
// for gap 0); src/backend/device/gap.rs. A loss in a gap, finite with
// |loss| < 2^64 (`tail::within_range`), adds its count, sum and sum of squares
// to the gap's counters (`counters + g GAP_WORDS`), as `MemberTail::admit`
// adds them to that gap (the f64 add and square rounded once each, as on the
// host), and is no candidate. Not inlined: member_losses tests 64 losses in
// an unrolled loop, and 64 inlined copies of this tripled the kernel's code;
// called instead, the Monte Carlo stage of 10^7 scenarios x 10^4 members on an
// H200 took 3.9 s against 4.9 s (benches/RESULTS.md).
__device__ __noinline__ bool sum_in_gap(unsigned long long* counters, const float* bounds,
                                        unsigned int gaps, float v, double constant) {
    if (isinf(v)) {
        return false;
    }
    for (unsigned int g = 0; g < gaps; g++) {
        if (v >= bounds[2u * g]) {
            if (!(v < bounds[2u * g + 1u])) {
                return false;
            }
            const double x = __dadd_rn((double)v, constant);
            if (!(fabs(x) < 18446744073709551616.0)) {
                return false;
            }
            unsigned long long* gap = counters + g * GAP_WORDS;
            atomicAdd(&gap[0], 1ull);
            exact_add(gap + GAP_SUM, x);
            exact_add(gap + GAP_SQUARES, __dmul_rn(x, x));
            return true;
        }
    }
    return false;
}
