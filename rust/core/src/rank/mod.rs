//! Ranking models from a [`Dataset`]: Plackett–Luce with tied groups over every kind of
//! measurement, and the baselines behind the same call. See DESIGN.md, "Ranking".
//!
//! CONTRACT (used by the bindings; keep these signatures):

use crate::data::Dataset;
use crate::error::Result;

/// The ranking method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    PlackettLuce,
    BradleyTerry,
    Elo,
    Borda,
    Mean,
}

impl Method {
    /// The user-facing name: "plackett-luce", "bradley-terry", "elo", "borda", "mean".
    pub fn name(self) -> &'static str {
        match self {
            Method::PlackettLuce => "plackett-luce",
            Method::BradleyTerry => "bradley-terry",
            Method::Elo => "elo",
            Method::Borda => "borda",
            Method::Mean => "mean",
        }
    }

    /// Parses a user-facing name; `None` for an unknown one.
    pub fn parse(name: &str) -> Option<Method> {
        [
            Method::PlackettLuce,
            Method::BradleyTerry,
            Method::Elo,
            Method::Borda,
            Method::Mean,
        ]
        .into_iter()
        .find(|method| method.name() == name)
    }
}

/// How intervals are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interval {
    None,
    /// Observed Fisher information (methods with a likelihood); others fall back to None.
    Fisher,
    /// Bootstrap over samples, `replicates` fits warm-started from the point estimate.
    Bootstrap { replicates: usize, seed: u64 },
}

#[derive(Debug, Clone)]
pub struct RankOptions {
    pub method: Method,
    /// Prior strength: `alpha` virtual wins and losses of each model against a
    /// reference of score 0. Keeps all-win and all-lose models finite.
    pub alpha: f64,
    /// Confidence level of the intervals, in (0, 1).
    pub ci_level: f64,
    pub interval: Interval,
    pub tolerance: f64,
    pub max_iterations: usize,
    /// Warm start: scores (log-strengths) by model index, from an earlier fit.
    pub initial: Option<Vec<f64>>,
}

impl Default for RankOptions {
    fn default() -> Self {
        RankOptions {
            method: Method::PlackettLuce,
            alpha: 1.0,
            ci_level: 0.95,
            interval: Interval::Fisher,
            tolerance: 1e-8,
            max_iterations: 10_000,
            initial: None,
        }
    }
}

/// A fit. Vectors are indexed by model index (length `n_models`); models that are not
/// ranked (no information in the subset, or outside the main component) have
/// `ranked[m] == false` and NaN scores.
#[derive(Debug, Clone, Default)]
pub struct RankResult {
    pub method: &'static str,
    pub scores: Vec<f64>,
    pub ci_low: Vec<f64>,
    pub ci_high: Vec<f64>,
    /// 1 = best, among ranked models.
    pub rank: Vec<u32>,
    pub rank_low: Vec<u32>,
    pub rank_high: Vec<u32>,
    pub n_measurements: Vec<u64>,
    pub n_samples: Vec<u64>,
    pub ranked: Vec<bool>,
    /// Groups of measured models that are not connected to the main component.
    pub disconnected: Vec<Vec<u32>>,
    pub iterations: usize,
    pub converged: bool,
}

/// Ranks the models on `subset` (sample indexes; `None` = every sample).
pub fn rank(data: &Dataset, subset: Option<&[u32]>, options: &RankOptions) -> Result<RankResult> {
    let _ = (data, subset, options);
    todo!()
}
