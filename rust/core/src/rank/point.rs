//! The point fit of the methods other than the joint model, and their Fisher errors.

use super::graph::Graph;
use super::lists::Selection;
use super::uncertainty::Uncertainty;
use super::{
    borda, bradley_terry, elo, fisher, mean, onebench, onebench_information, plackett_luce,
};
use super::{Method, RankOptions, Solver};
use crate::error::Result as OnebenchResult;

/// Scores by model index (NaN for unranked models) before centring.
pub(super) struct Point {
    pub scores: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
    /// The BT objective, kept for its information matrix.
    pub bradley_terry: Option<bradley_terry::BradleyTerry>,
    /// BT log-strengths by local index.
    pub local: Vec<f64>,
}

/// Whether a method's scores are log-strengths, reported centred to mean 0.
pub(super) fn centred_method(method: Method) -> bool {
    matches!(
        method,
        Method::PlackettLuce | Method::BradleyTerry | Method::OneBench
    )
}

pub(super) fn point_estimate(
    selection: Selection,
    graph: &Graph,
    options: &RankOptions,
    start: &[f64],
    solver: Solver,
) -> OnebenchResult<Point> {
    let n_models = selection.data.n_models;
    let plain = |scores: Vec<f64>| Point {
        scores,
        iterations: 0,
        converged: true,
        bradley_terry: None,
        local: Vec::new(),
    };
    if graph.ranked_models.is_empty() {
        return Ok(plain(vec![f64::NAN; n_models]));
    }
    Ok(match options.method {
        Method::PlackettLuce => {
            let fitted = plackett_luce::plackett_luce_lists(
                selection,
                &graph.ranked,
                options.alpha,
                start.to_vec(),
                options.tolerance,
                options.max_iterations,
                solver,
            );
            let scores = fitted
                .x
                .iter()
                .zip(&graph.ranked)
                .map(|(&x, &ranked)| if ranked { x } else { f64::NAN })
                .collect();
            Point {
                scores,
                iterations: fitted.iterations,
                converged: fitted.converged,
                bradley_terry: None,
                local: Vec::new(),
            }
        }
        Method::BradleyTerry => {
            let (objective, fitted) = bradley_terry::bradley_terry_counts(
                &selection,
                graph,
                options.alpha,
                start,
                options.tolerance,
                options.max_iterations,
            );
            let mut scores = vec![f64::NAN; n_models];
            for (&model, &x) in graph.ranked_models.iter().zip(&fitted.x) {
                scores[model as usize] = x;
            }
            Point {
                scores,
                iterations: fitted.iterations,
                converged: fitted.converged,
                bradley_terry: Some(objective),
                local: fitted.x,
            }
        }
        Method::OneBench => {
            let fitted = onebench::ilsr_top1_lists(
                selection,
                &graph.ranked,
                options.alpha,
                start.to_vec(),
                options.tolerance,
                options.max_iterations,
                solver,
            );
            let scores = fitted
                .x
                .iter()
                .zip(&graph.ranked)
                .map(|(&x, &ranked)| if ranked { x } else { f64::NAN })
                .collect();
            Point {
                scores,
                iterations: fitted.iterations,
                converged: fitted.converged,
                bradley_terry: None,
                local: Vec::new(),
            }
        }
        Method::Mean => plain(mean::mean_scores(&selection, &graph.ranked)),
        Method::Borda => plain(borda::borda_lists(&selection, &graph.ranked)),
        Method::Elo => plain(elo::elo_comparisons(&selection, &graph.ranked)),
        // Ranked by `joint::rank_joint` before the comparison graph is built.
        Method::Joint => plain(vec![f64::NAN; n_models]),
    })
}

/// Why a fit has no covariance of its information.
pub(super) const NOT_POSITIVE_DEFINITE: &str = "the observed information is not positive definite";

/// The scores' uncertainty, in `graph.ranked_models` order, or why there is none.
pub(super) fn fisher_uncertainty(
    selection: &Selection,
    graph: &Graph,
    options: &RankOptions,
    point: &Point,
) -> Result<Uncertainty, String> {
    let scale_free = options.alpha == 0.0;
    let covariance = match options.method {
        Method::PlackettLuce => {
            let information =
                fisher::plackett_luce_information(selection, graph, options.alpha, &point.scores);
            fisher::covariance_of_information(information, scale_free)
        }
        Method::BradleyTerry => point.bradley_terry.as_ref().and_then(|objective| {
            fisher::covariance_of_information(objective.information(&point.local), scale_free)
        }),
        // The sandwich over samples: the choices of one sample are not independent.
        Method::OneBench => onebench_information::onebench_covariance(
            selection,
            graph,
            options.alpha,
            &point.scores,
        ),
        Method::Mean => {
            return Ok(mean::mean_uncertainty(
                selection,
                &graph.ranked_models,
                options.ci_level,
            ))
        }
        Method::Borda | Method::Elo | Method::Joint => {
            return Err(format!("{} has no likelihood", options.method.name()))
        }
    };
    covariance
        .map(|covariance| Uncertainty {
            covariance,
            intervals: None,
        })
        .ok_or_else(|| NOT_POSITIVE_DEFINITE.to_string())
}
