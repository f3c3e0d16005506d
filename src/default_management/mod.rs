//! Default management: what happens when members default — waterfall,
//! close-out, contagion, reverse and liquidity stress.

pub mod close_out;
