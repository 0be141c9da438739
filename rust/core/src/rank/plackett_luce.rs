//! Plackett–Luce maximum (penalised) likelihood over lists with tied groups and
//! comparisons with fractional credit.
//!
//! Model. A list with groups G_1..G_K best first and risk sets R_g = G_g ∪ … ∪ G_K adds
//! Σ_{g<K} [Σ_{i∈G_g} β_i − |G_g| log S_g], S_g = Σ_{j∈R_g} exp β_j: each member of a
//! group is chosen from its risk set, with ties by Breslow's approximation (Breslow 1974,
//! "Covariance analysis of censored survival data", Biometrics 30). A comparison with
//! credit c adds c β_a + (1−c) β_b − log(e^β_a + e^β_b). The prior gives each ranked
//! model `alpha` virtual wins and losses against a reference of β = 0.
//!
//! Pass. With θ = exp β, the MM map of Hunter (2004, "MM algorithms for generalized
//! Bradley–Terry models", Ann. Statist. 32) is θ_i ← w_i / D_i, where w_i counts the wins
//! (memberships of non-last groups, credits, prior wins) and
//! D_i = Σ_lists Σ_{g ≤ min(h_i, K−1)} |G_g| / S_g (+ comparisons and prior terms),
//! h_i the group of i. A pass computes the suffix sums S_g of each list, then prefix sums
//! of |G_g| / S_g, and scatters them to the members: O(list length), never the O(n²)
//! pairs of a list. The gradient of the negative log posterior is θ_i D_i − w_i, so the
//! same pass serves L-BFGS (plus one log per group for the objective).
//!
//! Solver choice (measured with `examples/rank_timings.rs`, release, 2 cores, tolerance
//! 1e-8 on the largest MM step; see the module comment of `rank/mod.rs` for the table):
//! MM+SQUAREM is kept. It needs no logs in a pass and converged in fewer passes and less
//! time than L-BFGS on every benchmark; both agree to < 1e-7 in β.

use super::lists::{add_into, risk_sets, Selection, Visitor};
use super::optimize::{best_prior_shift, lbfgs, squarem, Fitted, Objective};

/// Log-strengths are kept in [-BOUND, BOUND] so that exp never overflows in a sum; only
/// a divergent fit (an unpenalised model that never wins or never loses) reaches it.
const BOUND: f64 = 300.0;

/// Which optimiser runs the fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solver {
    /// Hunter's MM with SQUAREM acceleration (the default).
    Squarem,
    /// L-BFGS on log-strengths.
    Lbfgs,
}

/// The Plackett–Luce objective on one selection of samples.
pub(crate) struct PlackettLuce<'a> {
    selection: Selection<'a>,
    ranked: &'a [bool],
    alpha: f64,
    /// Wins per model, prior included (constant during a fit).
    wins: Vec<f64>,
    n_ranked: usize,
}

/// Accumulates wins.
struct WinsAccumulator<'a> {
    ranked: &'a [bool],
    wins: Vec<f64>,
}

impl Visitor for WinsAccumulator<'_> {
    fn list(&mut self, _position: usize, models: &[u32], ends: &[u32], weight: f64) {
        if ends.len() < 2 || !self.ranked[models[0] as usize] {
            return;
        }
        // Every member of a non-last group is chosen once from its risk set.
        for &model in &models[..ends[ends.len() - 2] as usize] {
            self.wins[model as usize] += weight;
        }
    }

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
        self.wins[model_a as usize] += weight * credit_a;
        self.wins[model_b as usize] += weight * (1.0 - credit_a);
    }
}

/// One pass: the MM denominators D (without the prior) and, optionally, Σ c log S.
struct PassAccumulator<'a> {
    theta: &'a [f64],
    ranked: &'a [bool],
    with_objective: bool,
    denominator: Vec<f64>,
    log_partition: f64,
    scratch: Vec<f64>,
}

impl Visitor for PassAccumulator<'_> {
    #[inline]
    fn list(&mut self, _position: usize, models: &[u32], ends: &[u32], weight: f64) {
        let groups = ends.len();
        if groups < 2 || !self.ranked[models[0] as usize] {
            return;
        }
        let theta = self.theta;
        let scratch = &mut self.scratch;
        // S_g, the total strength of the risk set of group g.
        risk_sets(models, ends, |m| theta[m as usize], scratch);
        // Prefix sums of |G_g| / S_g over the choosing groups g < K.
        let mut prefix = 0.0;
        let mut start = 0u32;
        for group in 0..groups - 1 {
            let size = f64::from(ends[group] - start);
            let risk = scratch[group];
            prefix += size / risk;
            if self.with_objective {
                self.log_partition += weight * size * risk.ln();
            }
            scratch[group] = weight * prefix;
            start = ends[group];
        }
        scratch[groups - 1] = weight * prefix;
        let mut start = 0usize;
        for (group, &end) in ends.iter().enumerate() {
            let value = scratch[group];
            for &model in &models[start..end as usize] {
                self.denominator[model as usize] += value;
            }
            start = end as usize;
        }
    }

    #[inline]
    fn comparison(
        &mut self,
        _position: usize,
        model_a: u32,
        model_b: u32,
        _credit_a: f64,
        weight: f64,
    ) {
        if model_a == model_b || !self.ranked[model_a as usize] {
            return;
        }
        let total = self.theta[model_a as usize] + self.theta[model_b as usize];
        self.denominator[model_a as usize] += weight / total;
        self.denominator[model_b as usize] += weight / total;
        if self.with_objective {
            self.log_partition += weight * total.ln();
        }
    }
}

impl<'a> PlackettLuce<'a> {
    pub fn new(selection: Selection<'a>, ranked: &'a [bool], alpha: f64) -> Self {
        let n_models = selection.data.n_models;
        let mut wins = selection
            .fold(
                || WinsAccumulator {
                    ranked,
                    wins: vec![0.0; n_models],
                },
                |mut a, b| {
                    add_into(&mut a.wins, &b.wins);
                    a
                },
            )
            .wins;
        for (wins, &ranked) in wins.iter_mut().zip(ranked) {
            if ranked {
                *wins += alpha;
            }
        }
        PlackettLuce {
            selection,
            ranked,
            alpha,
            wins,
            n_ranked: ranked.iter().filter(|&&r| r).count(),
        }
    }

    /// θ = exp β, D with the prior, and Σ c log S when asked.
    fn pass(&self, beta: &[f64], with_objective: bool) -> (Vec<f64>, Vec<f64>, f64) {
        let theta: Vec<f64> = beta.iter().map(|b| b.exp()).collect();
        let n_models = theta.len();
        let accumulator = self.selection.fold(
            || PassAccumulator {
                theta: &theta,
                ranked: self.ranked,
                with_objective,
                denominator: vec![0.0; n_models],
                log_partition: 0.0,
                scratch: Vec::new(),
            },
            |mut a, b| {
                add_into(&mut a.denominator, &b.denominator);
                a.log_partition += b.log_partition;
                a
            },
        );
        let mut denominator = accumulator.denominator;
        let mut log_partition = accumulator.log_partition;
        if self.alpha > 0.0 {
            for model in 0..n_models {
                if self.ranked[model] {
                    denominator[model] += 2.0 * self.alpha / (1.0 + theta[model]);
                    if with_objective {
                        log_partition += 2.0 * self.alpha * theta[model].ln_1p();
                    }
                }
            }
        }
        (theta, denominator, log_partition)
    }

    /// Largest |log(w / (θ D))| over ranked models.
    fn residual(&self, theta: &[f64], denominator: &[f64]) -> f64 {
        let mut largest = 0.0f64;
        for model in 0..theta.len() {
            if self.ranked[model] {
                let step = (self.wins[model] / (theta[model] * denominator[model])).ln();
                largest = largest.max(if step.is_nan() {
                    f64::INFINITY
                } else {
                    step.abs()
                });
            }
        }
        largest
    }
}

impl Objective for PlackettLuce<'_> {
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
        for model in 0..x.len() {
            if self.ranked[model] {
                value -= self.wins[model] * x[model];
                gradient[model] = theta[model] * denominator[model] - self.wins[model];
            }
        }
        (value, gradient, residual)
    }

    fn normalise(&self, x: &mut [f64]) {
        for (value, &ranked) in x.iter_mut().zip(self.ranked) {
            *value = if ranked && !value.is_nan() {
                value.clamp(-BOUND, BOUND)
            } else {
                0.0
            };
        }
        if self.alpha > 0.0 {
            best_prior_shift(x, |m| self.ranked[m]);
        } else if self.n_ranked > 0 {
            // Without a prior only differences are identified: fix the mean at 0.
            let mean = x.iter().sum::<f64>() / self.n_ranked as f64;
            for (value, &ranked) in x.iter_mut().zip(self.ranked) {
                if ranked {
                    *value -= mean;
                }
            }
        }
    }
}

/// Fits Plackett–Luce on `selection` over the `ranked` models, from `start`
/// (log-strengths by model index).
pub(crate) fn plackett_luce_lists(
    selection: Selection,
    ranked: &[bool],
    alpha: f64,
    start: Vec<f64>,
    tolerance: f64,
    max_iterations: usize,
    solver: Solver,
) -> Fitted {
    let objective = PlackettLuce::new(selection, ranked, alpha);
    match solver {
        Solver::Squarem => squarem(&objective, start, tolerance, max_iterations),
        Solver::Lbfgs => lbfgs(&objective, start, tolerance, max_iterations),
    }
}
