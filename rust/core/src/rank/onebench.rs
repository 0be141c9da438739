//! ONEBench's estimator (Ghosh et al. 2024, "ONEBench to test them all: sample-level
//! benchmarking over open-ended capabilities"): every measurement becomes Luce *top-1
//! choices*, fitted as choix does with Iterative Luce Spectral Ranking (Maystre &
//! Grossglauser 2015, "Fast and accurate inference of Plackett–Luce models", NIPS).
//!
//! Choices. A list with groups G_1..G_K best first gives, for each member i of a group
//! g < K, the choice of i from {i} ∪ G_{g+1} ∪ … ∪ G_K: each model is chosen over every
//! model strictly worse, never over the models it ties with. A binary sample is two
//! groups, so each model that got it right is chosen over the models that got it wrong
//! (ONEBench's `ilsr_top1` data); a numeric sample or a ranking without ties is exactly a
//! Plackett–Luce ranking (choix `ilsr_rankings`); tied values follow the binary rule. A
//! comparison with credit c is c of a choice of a from {a, b} and 1 − c of b (choix
//! `ilsr_pairwise` for c ∈ {0, 1}).
//!
//! Fixed point. choix's regularised chain adds rate α between every pair of the n items and
//! normalises the weights to Σθ = n (`exp_transform`). Writing out the balance equations
//! of the chain at a fixed point θ gives θ_j (T_j + αn) = W_j + αn, where W_j counts j's
//! choices and T_j = Σ_{choices whose set holds j} 1/S (S the set's total strength), and
//! summing them gives Σθ = n back. These are the stationarity conditions of
//! Σ_choices [β_winner − log S] + αn Σ_j (β_j − e^{β_j}), a concave objective in β = log θ,
//! so the I-LSR fixed point is its unique maximum. It is reached here by Hunter's MM map
//! θ_j ← (W_j + αn) / (T_j + αn), one O(measurements) pass, accelerated by SQUAREM, after
//! every step moving β by the common shift that maximises the objective along 1 (Σθ = n,
//! choix's normalisation). choix's dense O(n³) spectral step is not needed for the same
//! point; `tests/rank_onebench.rs` checks both against each other.

use super::lists::{add_into, Selection, Visitor};
use super::optimize::{lbfgs, squarem, Fitted, Objective};
use super::plackett_luce::Solver;

/// Log-strengths are kept in [-BOUND, BOUND] (only an unpenalised fit of a model that is
/// never or always chosen moves towards it).
const BOUND: f64 = 300.0;

/// The total strength of the groups after each group of a list (`tail[g]`, 0 for the
/// last): a member i of group g is chosen from a set of strength θ_i + tail[g]. Shared
/// with the information pass.
pub(crate) fn tails(models: &[u32], ends: &[u32], theta: &[f64], tail: &mut Vec<f64>) {
    tail.clear();
    tail.resize(ends.len(), 0.0);
    let mut suffix = 0.0;
    for group in (0..ends.len()).rev() {
        tail[group] = suffix;
        let start = if group == 0 { 0 } else { ends[group - 1] } as usize;
        suffix += models[start..ends[group] as usize]
            .iter()
            .map(|&m| theta[m as usize])
            .sum::<f64>();
    }
}

/// The choices counted per model (W) and, given θ, the denominators T and Σ weight log S.
struct ChoiceAccumulator<'a> {
    theta: &'a [f64],
    ranked: &'a [bool],
    with_objective: bool,
    wins: Vec<f64>,
    denominator: Vec<f64>,
    log_partition: f64,
    tail: Vec<f64>,
}

impl Visitor for ChoiceAccumulator<'_> {
    #[inline]
    fn list(&mut self, _position: usize, models: &[u32], ends: &[u32], weight: f64) {
        let groups = ends.len();
        if groups < 2 || !self.ranked[models[0] as usize] {
            return;
        }
        let theta = self.theta;
        tails(models, ends, theta, &mut self.tail);
        // `prefix`: Σ 1/S over the choices of the groups before the current one; every
        // member of a later group is in each of those sets.
        let mut prefix = 0.0;
        let mut start = 0usize;
        for (group, &end) in ends.iter().enumerate() {
            let members = &models[start..end as usize];
            let chooses = group + 1 < groups;
            let mut own = 0.0;
            for &model in members {
                let index = model as usize;
                let mut value = prefix;
                if chooses {
                    let risk = theta[index] + self.tail[group];
                    value += 1.0 / risk;
                    own += 1.0 / risk;
                    self.wins[index] += weight;
                    if self.with_objective {
                        self.log_partition += weight * risk.ln();
                    }
                }
                self.denominator[index] += weight * value;
            }
            prefix += own;
            start = end as usize;
        }
    }

    #[inline]
    fn comparison(
        &mut self,
        _position: usize,
        model_a: u32,
        model_b: u32,
        credit_a: f64,
        weight: f64,
    ) {
        if model_a == model_b || !self.ranked[model_a as usize] {
            return;
        }
        let (a, b) = (model_a as usize, model_b as usize);
        let total = self.theta[a] + self.theta[b];
        self.wins[a] += weight * credit_a;
        self.wins[b] += weight * (1.0 - credit_a);
        self.denominator[a] += weight / total;
        self.denominator[b] += weight / total;
        if self.with_objective {
            self.log_partition += weight * total.ln();
        }
    }
}

/// The objective of the module comment on one selection of samples.
pub(crate) struct OneBench<'a> {
    selection: Selection<'a>,
    ranked: &'a [bool],
    /// αn: the regularisation of choix's chain, scaled by the number of ranked models.
    prior: f64,
    /// W + αn per model (constant during a fit).
    wins: Vec<f64>,
    n_ranked: usize,
}

impl<'a> OneBench<'a> {
    pub fn new(selection: Selection<'a>, ranked: &'a [bool], alpha: f64) -> Self {
        let n_ranked = ranked.iter().filter(|&&r| r).count();
        let prior = alpha * n_ranked as f64;
        let ones = vec![1.0; selection.data.n_models];
        let (mut wins, _, _) = Self::pass_with(&selection, ranked, &ones, false);
        for (wins, &ranked) in wins.iter_mut().zip(ranked) {
            *wins = if ranked { *wins + prior } else { 0.0 };
        }
        OneBench {
            selection,
            ranked,
            prior,
            wins,
            n_ranked,
        }
    }

    fn pass_with(
        selection: &Selection,
        ranked: &[bool],
        theta: &[f64],
        with_objective: bool,
    ) -> (Vec<f64>, Vec<f64>, f64) {
        let n_models = theta.len();
        let accumulator = selection.fold(
            || ChoiceAccumulator {
                theta,
                ranked,
                with_objective,
                wins: vec![0.0; n_models],
                denominator: vec![0.0; n_models],
                log_partition: 0.0,
                tail: Vec::new(),
            },
            |mut a, b| {
                add_into(&mut a.wins, &b.wins);
                add_into(&mut a.denominator, &b.denominator);
                a.log_partition += b.log_partition;
                a
            },
        );
        (
            accumulator.wins,
            accumulator.denominator,
            accumulator.log_partition,
        )
    }

    /// θ = exp β, T + αn, and Σ weight log S when asked.
    fn pass(&self, beta: &[f64], with_objective: bool) -> (Vec<f64>, Vec<f64>, f64) {
        let theta: Vec<f64> = beta.iter().map(|b| b.exp()).collect();
        let (_, mut denominator, log_partition) =
            Self::pass_with(&self.selection, self.ranked, &theta, with_objective);
        for (denominator, &ranked) in denominator.iter_mut().zip(self.ranked) {
            if ranked {
                *denominator += self.prior;
            }
        }
        (theta, denominator, log_partition)
    }

    /// Largest |log((W + αn) / (θ (T + αn)))| over ranked models: the MM step.
    fn residual(&self, theta: &[f64], denominator: &[f64]) -> f64 {
        (0..theta.len())
            .filter(|&m| self.ranked[m])
            .map(|m| (self.wins[m] / (theta[m] * denominator[m])).ln().abs())
            .fold(0.0f64, |largest, step| {
                if step.is_nan() {
                    f64::INFINITY
                } else {
                    largest.max(step)
                }
            })
    }
}

impl Objective for OneBench<'_> {
    fn mm_step(&self, x: &[f64]) -> (Vec<f64>, f64) {
        let (theta, denominator, _) = self.pass(x, false);
        let residual = self.residual(&theta, &denominator);
        let mut next: Vec<f64> = (0..x.len())
            .map(|m| {
                if self.ranked[m] {
                    self.wins[m].ln() - denominator[m].ln()
                } else {
                    0.0
                }
            })
            .collect();
        self.normalise(&mut next);
        (next, residual)
    }

    fn evaluate(&self, x: &[f64]) -> (f64, Vec<f64>, f64) {
        let (theta, denominator, log_partition) = self.pass(x, true);
        let residual = self.residual(&theta, &denominator);
        let mut value = log_partition;
        let mut gradient = vec![0.0; x.len()];
        for model in (0..x.len()).filter(|&m| self.ranked[m]) {
            // −(W + αn) β + αn θ, the rest of the negative objective.
            value += self.prior * theta[model] - self.wins[model] * x[model];
            gradient[model] = theta[model] * denominator[model] - self.wins[model];
        }
        (value, gradient, residual)
    }

    /// Clamps, then shifts the ranked log-strengths to Σθ = n: choix's `exp_transform`,
    /// and the exact maximum of the objective along 1 (only the prior depends on it).
    fn normalise(&self, x: &mut [f64]) {
        for (value, &ranked) in x.iter_mut().zip(self.ranked) {
            *value = if ranked && !value.is_nan() {
                value.clamp(-BOUND, BOUND)
            } else {
                0.0
            };
        }
        let ranked = || (0..x.len()).filter(|&m| self.ranked[m]);
        let largest = ranked().map(|m| x[m]).fold(f64::NEG_INFINITY, f64::max);
        if self.n_ranked == 0 || !largest.is_finite() {
            return;
        }
        let sum: f64 = ranked().map(|m| (x[m] - largest).exp()).sum();
        let shift = (self.n_ranked as f64).ln() - largest - sum.ln();
        for (value, &ranked) in x.iter_mut().zip(self.ranked) {
            if ranked {
                *value += shift;
            }
        }
    }
}

/// Fits ONEBench's estimator (top-1 choices, I-LSR's fixed point) on `selection` over the
/// `ranked` models from `start` (log-strengths by model index).
pub(crate) fn ilsr_top1_lists(
    selection: Selection,
    ranked: &[bool],
    alpha: f64,
    start: Vec<f64>,
    tolerance: f64,
    max_iterations: usize,
    solver: Solver,
) -> Fitted {
    let objective = OneBench::new(selection, ranked, alpha);
    match solver {
        Solver::Squarem => squarem(&objective, start, tolerance, max_iterations),
        Solver::Lbfgs => lbfgs(&objective, start, tolerance, max_iterations),
    }
}
