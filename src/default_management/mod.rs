//! Default management: what happens when members default, beyond the
//! default fund's sizing: how far the stress scenarios are from exhausting
//! the prefunded resources (reverse stress).

pub mod reverse_stress;

pub use reverse_stress::{
    reverse_stress, ReverseStress, ReverseStressInput, ScenarioReverseStress,
};
