//! Ranking models from a [`Dataset`]: Plackett–Luce with tied groups over every kind of
//! measurement, and the baselines behind the same call. See DESIGN.md, "Ranking".
//!
//! CONTRACT (used by the bindings; keep these signatures):

mod bootstrap;
mod borda;
mod bradley_terry;
mod elo;
mod fisher;
mod graph;
mod joint;
mod lists;
mod mean;
mod onebench;
mod onebench_information;
mod optimize;
mod plackett_luce;
mod point;
mod standing;
mod uncertainty;
mod validate;

pub use joint::{
    item_diagnostics, FormCandidate, FormChoice, FormReport, ItemDiagnostics, JointForm,
    JointSolution,
};
pub use plackett_luce::Solver;

use std::sync::Arc;

use crate::data::Dataset;
use crate::error::Result;
use lists::Selection;
use point::{centred_method, fisher_uncertainty, point_estimate, Point};
use validate::validate;

/// The ranking method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    PlackettLuce,
    BradleyTerry,
    Elo,
    Borda,
    Mean,
    /// The joint latent-skill model (`joint/`): Rasch, offsets, Bradley–Terry/Davidson
    /// and Plackett–Luce on one skill per model, with hierarchical difficulties.
    Joint,
    /// ONEBench's published estimator (`onebench.rs`): Luce top-1 choices of each model
    /// over the models strictly worse on a sample, fitted as choix's I-LSR.
    OneBench,
}

impl Method {
    /// The user-facing name: "plackett-luce", "bradley-terry", "elo", "borda", "mean",
    /// "joint", "onebench".
    pub fn name(self) -> &'static str {
        match self {
            Method::PlackettLuce => "plackett-luce",
            Method::BradleyTerry => "bradley-terry",
            Method::Elo => "elo",
            Method::Borda => "borda",
            Method::Mean => "mean",
            Method::Joint => "joint",
            Method::OneBench => "onebench",
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
            Method::Joint,
            Method::OneBench,
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
    Bootstrap {
        replicates: usize,
        seed: u64,
    },
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
    /// Warm start of the joint model: an earlier fit's [`RankResult::solution`] (its
    /// skills, difficulties and hubs), on this dataset or an earlier version of it with
    /// fewer samples, models or measurements. Its skills take precedence over `initial`.
    pub initial_solution: Option<Arc<JointSolution>>,
    /// Models measured on fewer samples of the subset are fitted (their measurements
    /// still inform everyone else's) but left out of the ranks and rank intervals, and
    /// listed in [`RankResult::hidden`]. 0 or 1: every ranked model is shown.
    pub min_samples: u64,
    /// The joint model's form: chosen by held-out measurements, or given.
    pub form: FormChoice,
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
            initial_solution: None,
            min_samples: 0,
            form: FormChoice::Auto,
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
    /// Models fitted but left out for having fewer than `min_samples` samples (by
    /// model index); `ranked` is false and the scores NaN for them, as for models that
    /// are not ranked at all.
    pub hidden: Vec<u32>,
    pub iterations: usize,
    pub converged: bool,
    /// Bootstrap replicates whose fit stopped at `max_iterations` before converging (they
    /// still count in the intervals).
    pub unconverged_replicates: usize,
    /// The joint model's whole solution, for [`RankOptions::initial_solution`] (None for
    /// the other methods, whose scores are their whole solution).
    pub solution: Option<Arc<JointSolution>>,
    /// The joint model's form and why (None for the other methods).
    pub model_form: Option<FormReport>,
    /// What the reader must know about the intervals: why they are missing or where they
    /// come from when not from the kind asked for.
    pub notes: Vec<String>,
}

/// Ranks the models on `subset` (sample indexes; `None` = every sample).
pub fn rank(data: &Dataset, subset: Option<&[u32]>, options: &RankOptions) -> Result<RankResult> {
    rank_with_solver(data, subset, options, Solver::Squarem)
}

/// [`rank`] with a chosen optimiser for the Plackett–Luce fit (for benchmarks; the
/// default, [`Solver::Squarem`], was the fastest measured).
pub fn rank_with_solver(
    data: &Dataset,
    subset: Option<&[u32]>,
    options: &RankOptions,
    solver: Solver,
) -> Result<RankResult> {
    validate(data, subset, options)?;
    if options.method == Method::Joint {
        return joint::rank_joint(data, subset, options);
    }
    let selection = Selection::new(data, subset);
    let graph = graph::comparison_graph(&selection)?;
    let n_models = data.n_models;
    let start: Vec<f64> = match &options.initial {
        Some(initial) => initial
            .iter()
            .map(|&v| if v.is_finite() { v } else { 0.0 })
            .collect(),
        None => vec![0.0; n_models],
    };
    let fit = |selection: Selection, start: &[f64]| -> Result<Point> {
        point_estimate(selection, &graph, options, start, solver)
    };
    let point = fit(selection, &start)?;
    let mut scores = point.scores.clone();
    let centred = centred_method(options.method);
    if centred {
        centre(&graph.ranked_models, &mut scores);
    }
    let mut result = RankResult {
        method: options.method.name(),
        ci_low: vec![f64::NAN; n_models],
        ci_high: vec![f64::NAN; n_models],
        rank: vec![0; n_models],
        rank_low: vec![0; n_models],
        rank_high: vec![0; n_models],
        ranked: graph.ranked.clone(),
        disconnected: graph.disconnected.clone(),
        iterations: point.iterations,
        converged: point.converged,
        ..Default::default()
    };
    standing::stand(
        &mut result,
        &selection,
        options,
        standing::Fitted {
            ranked_models: &graph.ranked_models,
            n_samples: &graph.n_samples,
            measurements: selection_measurements(&graph.n_measurements),
            scores,
            centred,
        },
        || fisher_uncertainty(&selection, &graph, options, &point),
        |weighted| fit(weighted, &point.scores).map(|point| (point.scores, point.converged)),
    )?;
    result.n_measurements = graph.n_measurements;
    result.n_samples = graph.n_samples;
    Ok(result)
}

/// Measurements behind a fit, from each model's count (a comparison counts for both of
/// its models: a bound on the work, which is what it is used for).
pub(crate) fn selection_measurements(n_measurements: &[u64]) -> u64 {
    n_measurements.iter().sum()
}

/// Subtracts the mean over ranked models (finite scores only).
pub(crate) fn centre(ranked_models: &[u32], scores: &mut [f64]) {
    let finite: Vec<f64> = ranked_models
        .iter()
        .map(|&m| scores[m as usize])
        .filter(|s| s.is_finite())
        .collect();
    if finite.is_empty() {
        return;
    }
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    for &model in ranked_models {
        scores[model as usize] -= mean;
    }
}
