//! Why a run can fail, worded for the user.

use crate::backend::BackendError;
use crate::book::BookError;
use crate::scenario::ModelError;
use crate::tail::TailMemoryError;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Book(#[from] BookError),
    #[error("scenario model: {0}")]
    Model(#[from] ModelError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(
        "member `{member}`: {count} Monte Carlo scenario(s) gave a loss that is not a number or beyond \
         1.8e19 USD (first: scenario {scenario}, loss {loss:e} USD; the member's gross notional is \
         {gross_notional:e} USD). {cause}"
    )]
    LossOutOfRange {
        member: String,
        count: u64,
        scenario: u64,
        loss: f64,
        gross_notional: f64,
        /// What drove the loss: the scenario's largest price move, redrawn.
        cause: String,
    },
    #[error(
        "stress scenario `{scenario}` ({origin}): member `{member}` loses {loss:e} USD, not a number \
         or beyond 1.8e19 USD: check the scenario's shocks and the member's positions"
    )]
    StressOutOfRange {
        scenario: String,
        origin: String,
        member: String,
        loss: f64,
    },
    #[error(
        "reverse stress: stress scenario `{scenario}` scaled by {k:.4} gives member `{member}` a \
         loss of {loss:e}, not a finite number within 1.8e19 USD: check the scenario's shocks and \
         the member's positions"
    )]
    ReverseStressOutOfRange {
        scenario: String,
        k: f64,
        member: String,
        loss: f64,
    },
    #[error(
        "an exact tail of {k} losses did not resolve every confidence: a bug, please report it"
    )]
    Unresolved { k: usize },
    #[error(
        "member(s) {}: a rank fell outside the window the pilot placed (the pilot was off by more \
         than five standard errors), so their tails need a second pass over all the scenarios \
         with exact windows: run every shard again with `--second-pass {}` (any shard count) and \
         merge its parts with these{}",
        members.join(", "),
        members.join(","),
        match given {
            Some(g) => format!(" (the second-pass parts given resolve {})", if g.is_empty() { "no member".to_string() } else { g.join(", ") }),
            None => String::new(),
        }
    )]
    SecondPassNeeded {
        members: Vec<String>,
        given: Option<Vec<String>>,
    },
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A part a merge reads, refused (the reader's message).
    #[error("{0}")]
    Part(String),
    #[error("part {part}: its tails are laid out otherwise than the first part's (another run's, or another plan's)")]
    PartLayout { part: usize },
    #[error("the parts cover {seen} scenarios of the run's {paths}")]
    PartsIncomplete { seen: u64, paths: u64 },
    #[error(
        "the tails of this run need windows narrowed over several passes within --memory-limit-mib \
         {limit_mib}, which a shard cannot do on its own: raise --memory-limit-mib (every shard \
         and the merge alike) until the run plans a pilot's windows"
    )]
    ShardNarrowing { limit_mib: u64 },
    #[error("{0}: lower --paths or raise --memory-limit-mib")]
    TailMemory(#[from] TailMemoryError),
    #[error("scenario.historical is set but no price history was loaded with the snapshot")]
    NoHistory,
}
