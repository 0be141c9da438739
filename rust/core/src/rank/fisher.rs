//! Observed Fisher information of the Plackett–Luce fit, and the intervals it gives.
//!
//! The Hessian of the negative log posterior in β is, per list,
//! δ_ij θ_i Σ_{g ≤ min(h_i, K−1)} |G_g|/S_g − θ_i θ_j Σ_{g ≤ min(h_i, h_j, K−1)} |G_g|/S_g²
//! (a sum of rank-one terms over risk sets), plus 2α θ_i/(1+θ_i)² from the prior. Its
//! off-diagonal part costs O(L²) per list of length L, the one step that is not
//! O(measurements); rows are scattered into a per-chunk dense matrix of the ranked
//! models, then merged and factorised by Cholesky. The covariance of the centred scores
//! is P Σ P with P = I − 11ᵀ/n; when alpha = 0 the information is singular along 1 and
//! Σ = (I + c 11ᵀ)⁻¹, which equals the pseudo-inverse on the centred subspace.

use nalgebra::DMatrix;

use super::graph::Graph;
use super::lists::{add_into, risk_sets, Selection, Visitor};

struct InformationAccumulator<'a> {
    theta: &'a [f64],
    local: &'a [u32],
    n: usize,
    /// Row-major n × n, lower triangle: the θ_iθ_j P2 terms of each pair, once.
    off_diagonal: Vec<f64>,
    /// The diagonal: θ_i P1(h_i) − θ_i² P2(h_i).
    diagonal: Vec<f64>,
    risk: Vec<f64>,
    /// Per entry of the current list: local index, capped group, θ.
    entries: Vec<(u32, u32, f64)>,
    /// Per choosing group of the current list: weight · P2(g).
    second: Vec<f64>,
}

impl Visitor for InformationAccumulator<'_> {
    fn list(&mut self, _position: usize, models: &[u32], ends: &[u32], weight: f64) {
        let groups = ends.len();
        if groups < 2 || self.local[models[0] as usize] == super::graph::NOT_RANKED {
            return;
        }
        let theta = self.theta;
        risk_sets(models, ends, |m| theta[m as usize], &mut self.risk);
        // Per entry: local index, group (the last group shares the one before it: it
        // chooses nothing), and θ; per group: P2(g) = Σ_{g' ≤ g} |G_g'| / S_g'².
        self.entries.clear();
        self.second.clear();
        let (mut first, mut second) = (0.0, 0.0);
        let mut start = 0usize;
        for (group, &end) in ends.iter().enumerate() {
            if group < groups - 1 {
                let size = (end as usize - start) as f64;
                let risk = self.risk[group];
                first += size / risk;
                second += size / (risk * risk);
                self.second.push(weight * second);
            }
            let capped = group.min(groups - 2) as u32;
            for &model in &models[start..end as usize] {
                let local = self.local[model as usize];
                let t = theta[model as usize];
                self.diagonal[local as usize] += weight * (t * first - t * t * second);
                self.entries.push((local, capped, t));
            }
            start = end as usize;
        }
        // Pairs go to the lower triangle, [larger local][smaller local]; sorting by local
        // index makes each row's writes ascending, and the triangle halves the cache lines
        // the scatter touches (it is memory-bound).
        self.entries.sort_unstable_by_key(|entry| entry.0);
        let n = self.n;
        for p in 1..self.entries.len() {
            let (row, group_p, theta_p) = self.entries[p];
            let row = &mut self.off_diagonal[row as usize * n..row as usize * n + row as usize];
            for &(column, group_q, theta_q) in &self.entries[..p] {
                row[column as usize] +=
                    theta_p * theta_q * self.second[group_p.min(group_q) as usize];
            }
        }
    }

    fn comparison(
        &mut self,
        _position: usize,
        model_a: u32,
        model_b: u32,
        _credit_a: f64,
        weight: f64,
    ) {
        let (local_a, local_b) = (self.local[model_a as usize], self.local[model_b as usize]);
        if model_a == model_b || local_a == super::graph::NOT_RANKED {
            return;
        }
        let (a, b) = (self.theta[model_a as usize], self.theta[model_b as usize]);
        let term = weight * a * b / ((a + b) * (a + b));
        self.diagonal[local_a as usize] += term;
        self.diagonal[local_b as usize] += term;
        let (row, column) = (local_a.max(local_b) as usize, local_a.min(local_b) as usize);
        self.off_diagonal[row * self.n + column] += term;
    }
}

/// The observed information of the Plackett–Luce posterior at `beta`, over ranked models.
pub(crate) fn plackett_luce_information(
    selection: &Selection,
    graph: &Graph,
    alpha: f64,
    beta: &[f64],
) -> DMatrix<f64> {
    let theta: Vec<f64> = beta
        .iter()
        .map(|b| if b.is_finite() { b.exp() } else { 0.0 })
        .collect();
    let n = graph.ranked_models.len();
    // One n × n accumulator per thread: more would only add memory traffic.
    let accumulator = selection.fold_chunks(
        rayon::current_num_threads(),
        || InformationAccumulator {
            theta: &theta,
            local: &graph.local,
            n,
            off_diagonal: vec![0.0; n * n],
            diagonal: vec![0.0; n],
            risk: Vec::new(),
            entries: Vec::new(),
            second: Vec::new(),
        },
        |mut a, b| {
            add_into(&mut a.off_diagonal, &b.off_diagonal);
            add_into(&mut a.diagonal, &b.diagonal);
            a
        },
    );
    let mut information = DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            if i != j {
                // Each pair is stored once, in the lower triangle.
                information[(i, j)] =
                    -(accumulator.off_diagonal[i * n + j] + accumulator.off_diagonal[j * n + i]);
            }
        }
        let t = theta[graph.ranked_models[i] as usize];
        information[(i, i)] = accumulator.diagonal[i] + 2.0 * alpha * t / ((1.0 + t) * (1.0 + t));
    }
    information
}

/// The scores' covariance from an information matrix; `None` if it is not positive
/// definite (after fixing the free scale when `scale_free`: the term added along 1 moves
/// no centred score and no rank).
pub(crate) fn covariance_of_information(
    mut information: DMatrix<f64>,
    scale_free: bool,
) -> Option<DMatrix<f64>> {
    let n = information.nrows();
    if n == 0 {
        return Some(information);
    }
    if scale_free {
        let mean_diagonal = information.diagonal().mean().abs().max(1e-12);
        information.add_scalar_mut(mean_diagonal / n as f64);
    }
    let covariance = information.cholesky()?.inverse();
    covariance
        .iter()
        .all(|value| value.is_finite())
        .then_some(covariance)
}

/// Standard errors of the centred scores s_i − mean(s) from the scores' covariance.
pub(crate) fn centred_errors_of_covariance(covariance: &DMatrix<f64>) -> Vec<f64> {
    let n = covariance.nrows();
    if n == 0 {
        return Vec::new();
    }
    let row_means: Vec<f64> = (0..n).map(|i| covariance.row(i).mean()).collect();
    let grand_mean = row_means.iter().sum::<f64>() / n as f64;
    (0..n)
        .map(|i| {
            (covariance[(i, i)] - 2.0 * row_means[i] + grand_mean)
                .max(0.0)
                .sqrt()
        })
        .collect()
}

/// The standard normal quantile, by Acklam's rational approximation (relative error
/// below 1.2e-9, ample for interval widths).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    const LOW: f64 = 0.02425;
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}
