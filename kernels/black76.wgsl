// Black-76 in f32, mirroring src/pricing/black76.rs: Cody's rational
// approximations of the normal CDF (TOMS 715) with the same branches and the
// same split exponential. Needs normal.wgsl (exp_f32).

fn rational_small(xsq: f32) -> f32 {
    var num = 0.065682337918207449113 * xsq;
    var den = xsq;
    num = (num + 2.2352520354606839287) * xsq;
    den = (den + 47.20258190468824187) * xsq;
    num = (num + 161.02823106855587881) * xsq;
    den = (den + 976.09855173777669322) * xsq;
    num = (num + 1067.6894854603709582) * xsq;
    den = (den + 10260.932208618978205) * xsq;
    return (num + 18154.981253343561249) / (den + 45507.789335026729956);
}

fn rational_middle(y: f32) -> f32 {
    const C = array<f32, 9>(
        0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979,
        597.27027639480026226, 2494.5375852903726711, 6848.1904505362823326,
        11602.651437647350124, 9842.7148383839780218, 1.0765576773720192317e-8);
    const D = array<f32, 8>(
        22.266688044328115691, 235.38790178262499861, 1519.377599407554805,
        6485.558298266760755, 18615.571640885098091, 34900.952721145977266,
        38912.003286093271411, 19685.429676859990727);
    var num = C[8] * y;
    var den = y;
    for (var i = 0; i < 7; i++) {
        num = (num + C[i]) * y;
        den = (den + D[i]) * y;
    }
    return (num + C[7]) / (den + D[7]);
}

fn rational_large(y: f32) -> f32 {
    const P = array<f32, 6>(
        0.21589853405795699, 0.1274011611602473639, 0.022235277870649807,
        0.001421619193227893466, 2.9112874951168792e-5, 0.02307344176494017303);
    const Q = array<f32, 5>(
        1.28426009614491121, 0.468238212480865118, 0.0659881378689285515,
        0.00378239633202758244, 7.29751555083966205e-5);
    let xsq = 1.0 / (y * y);
    var num = P[5] * xsq;
    var den = xsq;
    for (var i = 0; i < 4; i++) {
        num = (num + P[i]) * xsq;
        den = (den + Q[i]) * xsq;
    }
    return (0.39894228040143267794 - xsq * (num + P[4]) / (den + Q[4])) / y;
}

// Standard normal cumulative distribution N(x).
fn norm_cdf(x: f32) -> f32 {
    let y = abs(x);
    if y <= 0.67448975 {
        return 0.5 + x * rational_small(x * x);
    }
    var ratio: f32;
    if y <= 5.6568542494923802 {
        ratio = rational_middle(y);
    } else {
        ratio = rational_large(y);
    }
    let ysq = trunc(y * 16.0) / 16.0;
    let del = (y - ysq) * (y + ysq);
    let upper = exp_f32(-ysq * ysq * 0.5) * exp_f32(-del * 0.5) * ratio;
    if x > 0.0 {
        return 1.0 - upper;
    }
    return upper;
}

// `black76_given_log_moneyness`: the Black-76 price of one option on one unit
// of the forward, given ln(F/K) and the total vol sigma sqrt(tau). A put's
// K N(-d2) - F N(-d1) takes N at the negated arguments.
fn black76_given_log_moneyness(call: bool, forward: f32, strike: f32, log_moneyness: f32,
                               total_vol: f32, discount: f32) -> f32 {
    if total_vol <= 1e-12 {
        return discount * max(select(strike - forward, forward - strike, call), 0.0);
    }
    let d1 = (log_moneyness + 0.5 * total_vol * total_vol) / total_vol;
    let d2 = d1 - total_vol;
    let n1 = norm_cdf(select(-d1, d1, call));
    let n2 = norm_cdf(select(-d2, d2, call));
    return discount * select(strike * n2 - forward * n1, forward * n1 - strike * n2, call);
}
