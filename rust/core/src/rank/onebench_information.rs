//! Standard errors of ONEBench's estimator: a sandwich over samples.
//!
//! The top-1 choices of one sample are not independent observations: in a binary sample
//! every correct model is chosen over the same wrong ones, so the outcome of one choice
//! says much about the others. Their product is a composite likelihood (Lindsay 1988,
//! "Composite likelihood methods", Contemp. Math. 80), whose Hessian H alone understates
//! the variance. The Godambe (sandwich) covariance H⁻¹ J H⁻¹ with J = Σ_s g_s g_sᵀ, g_s
//! the score of sample s, is consistent for it with samples as the independent units
//! (Varin, Reid & Firth 2011, "An overview of composite likelihood methods", Statist.
//! Sinica 21, §3), the same units as the bootstrap.
//!
//! Per choice of i from a set R of strength S, H gains diag(p) − p pᵀ with p = θ_R / S,
//! and the prior αn Σ(β − e^β) adds αn θ_j to the diagonal. The pairs of a list cost
//! O(L²), as for Plackett–Luce's information (`fisher.rs`); the rest is O(measurements).
//! Without a prior (alpha 0) H is singular along 1, which J also annihilates (each
//! sample's score sums to 0), so H + c11ᵀ gives the pseudo-inverse sandwich on the centred
//! scores.

use nalgebra::DMatrix;

use super::graph::{Graph, NOT_RANKED};
use super::lists::{add_into, Selection, Visitor};
use super::onebench::tails;

struct SandwichAccumulator<'a> {
    theta: &'a [f64],
    local: &'a [u32],
    n: usize,
    /// Row-major n × n, lower triangle: Σ θ_jθ_k / S² over the sets holding both.
    pairs: Vec<f64>,
    /// The diagonal of H without the prior.
    diagonal: Vec<f64>,
    /// Row-major n × n, lower triangle and diagonal: Σ_s g_s g_sᵀ.
    meat: Vec<f64>,
    /// The sample being read, its score by local index, and the local indexes it touched.
    position: Option<usize>,
    score: Vec<f64>,
    touched: Vec<u32>,
    tail: Vec<f64>,
    /// Per entry of the current list: local index, group, θ, 1/S² of its own choice.
    entries: Vec<(u32, u32, f64, f64)>,
    /// Per group: Σ 1/S² over the choices of the groups before it.
    before: Vec<f64>,
}

impl SandwichAccumulator<'_> {
    /// Starts `position`'s sample, adding the previous sample's g gᵀ to the meat.
    fn enter(&mut self, position: Option<usize>) {
        if self.position == position {
            return;
        }
        self.touched.sort_unstable();
        self.touched.dedup();
        let n = self.n;
        for (p, &row) in self.touched.iter().enumerate() {
            let score_row = self.score[row as usize];
            for &column in &self.touched[..=p] {
                self.meat[row as usize * n + column as usize] +=
                    score_row * self.score[column as usize];
            }
        }
        for &local in &self.touched {
            self.score[local as usize] = 0.0;
        }
        self.touched.clear();
        self.position = position;
    }

    fn add_score(&mut self, local: u32, value: f64) {
        self.score[local as usize] += value;
        self.touched.push(local);
    }
}

impl Visitor for SandwichAccumulator<'_> {
    fn list(&mut self, position: usize, models: &[u32], ends: &[u32], weight: f64) {
        let groups = ends.len();
        if groups < 2 || self.local[models[0] as usize] == NOT_RANKED {
            return;
        }
        self.enter(Some(position));
        let theta = self.theta;
        tails(models, ends, theta, &mut self.tail);
        self.entries.clear();
        self.before.clear();
        let (mut first, mut second) = (0.0, 0.0);
        let mut start = 0usize;
        for (group, &end) in ends.iter().enumerate() {
            self.before.push(second);
            let (mut own_first, mut own_second) = (0.0, 0.0);
            for &model in &models[start..end as usize] {
                let (local, t) = (self.local[model as usize], theta[model as usize]);
                let (mut in_first, mut in_second, mut chosen, mut squared) =
                    (first, second, 0.0, 0.0);
                if group + 1 < groups {
                    let risk = t + self.tail[group];
                    squared = 1.0 / (risk * risk);
                    (in_first, in_second, chosen) =
                        (in_first + 1.0 / risk, in_second + squared, 1.0);
                    own_first += 1.0 / risk;
                    own_second += squared;
                }
                self.diagonal[local as usize] += weight * (t * in_first - t * t * in_second);
                self.add_score(local, weight * (chosen - t * in_first));
                self.entries.push((local, group as u32, t, squared));
            }
            first += own_first;
            second += own_second;
            start = end as usize;
        }
        // Sorted by local index, each row's writes ascend (the scatter is memory-bound).
        self.entries.sort_unstable_by_key(|entry| entry.0);
        let n = self.n;
        for p in 1..self.entries.len() {
            let (row, group_p, theta_p, own_p) = self.entries[p];
            let row = &mut self.pairs[row as usize * n..row as usize * n + row as usize];
            for &(column, group_q, theta_q, own_q) in &self.entries[..p] {
                // Both are in the sets of the earlier groups' choices, and the earlier of
                // the two is chosen from a set holding the later one.
                let own = match group_p.cmp(&group_q) {
                    std::cmp::Ordering::Less => own_p,
                    std::cmp::Ordering::Greater => own_q,
                    std::cmp::Ordering::Equal => 0.0,
                };
                let shared = self.before[group_p.min(group_q) as usize] + own;
                row[column as usize] += weight * theta_p * theta_q * shared;
            }
        }
    }

    fn comparison(
        &mut self,
        position: usize,
        model_a: u32,
        model_b: u32,
        credit: f64,
        weight: f64,
    ) {
        let (local_a, local_b) = (self.local[model_a as usize], self.local[model_b as usize]);
        if model_a == model_b || local_a == NOT_RANKED {
            return;
        }
        self.enter(Some(position));
        let (a, b) = (self.theta[model_a as usize], self.theta[model_b as usize]);
        let p = a / (a + b);
        let term = weight * p * (1.0 - p);
        self.diagonal[local_a as usize] += term;
        self.diagonal[local_b as usize] += term;
        let (row, column) = (local_a.max(local_b) as usize, local_a.min(local_b) as usize);
        self.pairs[row * self.n + column] += term;
        self.add_score(local_a, weight * (credit - p));
        self.add_score(local_b, weight * (p - credit));
    }
}

/// The sandwich covariance of the log-strengths at `beta`, in `graph.ranked_models` order;
/// `None` where the information is not positive definite.
pub(crate) fn onebench_covariance(
    selection: &Selection,
    graph: &Graph,
    alpha: f64,
    beta: &[f64],
) -> Option<DMatrix<f64>> {
    let theta: Vec<f64> = beta
        .iter()
        .map(|b| if b.is_finite() { b.exp() } else { 0.0 })
        .collect();
    let n = graph.ranked_models.len();
    if n == 0 {
        return Some(DMatrix::zeros(0, 0));
    }
    let mut accumulator = selection.fold_chunks(
        rayon::current_num_threads(),
        || SandwichAccumulator {
            theta: &theta,
            local: &graph.local,
            n,
            pairs: vec![0.0; n * n],
            diagonal: vec![0.0; n],
            meat: vec![0.0; n * n],
            position: None,
            score: vec![0.0; n],
            touched: Vec::new(),
            tail: Vec::new(),
            entries: Vec::new(),
            before: Vec::new(),
        },
        |mut a, mut b| {
            // Each chunk's last sample is complete once its chunk is read.
            a.enter(None);
            b.enter(None);
            add_into(&mut a.pairs, &b.pairs);
            add_into(&mut a.diagonal, &b.diagonal);
            add_into(&mut a.meat, &b.meat);
            a
        },
    );
    accumulator.enter(None);
    let prior = alpha * n as f64;
    let mut hessian = DMatrix::<f64>::zeros(n, n);
    let mut meat = DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..i {
            let pair = accumulator.pairs[i * n + j];
            (hessian[(i, j)], hessian[(j, i)]) = (-pair, -pair);
            let cross = accumulator.meat[i * n + j];
            (meat[(i, j)], meat[(j, i)]) = (cross, cross);
        }
        let t = theta[graph.ranked_models[i] as usize];
        hessian[(i, i)] = accumulator.diagonal[i] + prior * t;
        meat[(i, i)] = accumulator.meat[i * n + i];
    }
    if alpha == 0.0 {
        let mean_diagonal = hessian.diagonal().mean().abs().max(1e-12);
        hessian.add_scalar_mut(mean_diagonal / n as f64);
    }
    let cholesky = hessian.cholesky()?;
    let half = cholesky.solve(&meat);
    let covariance = cholesky.solve(&half.transpose());
    if covariance.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(covariance)
}
