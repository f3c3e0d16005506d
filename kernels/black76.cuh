// Black-76 in f32, mirroring black76.wgsl and src/pricing/black76.rs: Cody's
// rational approximations of the normal CDF (TOMS 715), same branches, same
// split exponential. Needs normal.cuh (exp_f32).

__device__ __forceinline__ float norm_cdf(float x) {
    const float y = fabsf(x);
    if (y <= 0.67448975f) {
        const float xsq = x * x;
        float num = 0.065682337918207449113f * xsq, den = xsq;
        num = (num + 2.2352520354606839287f) * xsq;
        den = (den + 47.20258190468824187f) * xsq;
        num = (num + 161.02823106855587881f) * xsq;
        den = (den + 976.09855173777669322f) * xsq;
        num = (num + 1067.6894854603709582f) * xsq;
        den = (den + 10260.932208618978205f) * xsq;
        return 0.5f + x * (num + 18154.981253343561249f) / (den + 45507.789335026729956f);
    }
    float ratio;
    if (y <= 5.6568542494923802f) {
        const float C[9] = {0.39894151208813466764f, 8.8831497943883759412f, 93.506656132177855979f,
                            597.27027639480026226f, 2494.5375852903726711f, 6848.1904505362823326f,
                            11602.651437647350124f, 9842.7148383839780218f, 1.0765576773720192317e-8f};
        const float D[8] = {22.266688044328115691f, 235.38790178262499861f, 1519.377599407554805f,
                            6485.558298266760755f, 18615.571640885098091f, 34900.952721145977266f,
                            38912.003286093271411f, 19685.429676859990727f};
        float num = C[8] * y, den = y;
#pragma unroll
        for (int i = 0; i < 7; i++) {
            num = (num + C[i]) * y;
            den = (den + D[i]) * y;
        }
        ratio = (num + C[7]) / (den + D[7]);
    } else {
        const float P[6] = {0.21589853405795699f, 0.1274011611602473639f, 0.022235277870649807f,
                            0.001421619193227893466f, 2.9112874951168792e-5f, 0.02307344176494017303f};
        const float Q[5] = {1.28426009614491121f, 0.468238212480865118f, 0.0659881378689285515f,
                            0.00378239633202758244f, 7.29751555083966205e-5f};
        const float xsq = 1.0f / (y * y);
        float num = P[5] * xsq, den = xsq;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            num = (num + P[i]) * xsq;
            den = (den + Q[i]) * xsq;
        }
        ratio = (0.39894228040143267794f - xsq * (num + P[4]) / (den + Q[4])) / y;
    }
    const float ysq = truncf(y * 16.0f) / 16.0f;
    const float del = (y - ysq) * (y + ysq);
    const float upper = exp_f32(-ysq * ysq * 0.5f) * exp_f32(-del * 0.5f) * ratio;
    return x > 0.0f ? 1.0f - upper : upper;
}

// `black76_given_log_moneyness`: the Black-76 price of one option on one unit
// of the forward, given ln(F/K) and the total vol sigma sqrt(tau). A put's
// K N(-d2) - F N(-d1) takes N at the negated arguments.
__device__ __forceinline__ float black76_given_log_moneyness(bool call, float forward, float strike,
                                                             float log_moneyness, float total_vol,
                                                             float discount) {
    if (total_vol <= 1e-12f) {
        return discount * fmaxf(call ? forward - strike : strike - forward, 0.0f);
    }
    const float d1 = (log_moneyness + 0.5f * total_vol * total_vol) / total_vol;
    const float d2 = d1 - total_vol;
    const float n1 = norm_cdf(call ? d1 : -d1);
    const float n2 = norm_cdf(call ? d2 : -d2);
    return discount * (call ? forward * n1 - strike * n2 : strike * n2 - forward * n1);
}
