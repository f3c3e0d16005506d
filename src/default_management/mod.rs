//! Default management: what happens when members default in a stress
//! scenario, after the default fund is sized ([`crate::default_fund`]). The
//! waterfall spends the defaulters' resources, the CCP's and the survivors'
//! in the order the regulation sets (methodology 9.4).

pub mod waterfall;
