//! The Bradley–Terry baseline as LMArena computes it: pairwise win counts, then the BT
//! maximum likelihood on the count matrix. Counts come from every comparison (credit to
//! each side, so a tie is half a win each way) and from every pair of entries of each
//! informative list (at least two groups): the better-placed entry wins, tied entries
//! count half each way. Expanding lists into pairs costs O(L²) per list, which is the
//! point of the baseline (it is ONEBench's own pipeline). The fit is Zermelo's/Hunter's
//! MM with SQUAREM on the dense n × n counts, with the same prior as Plackett–Luce, and
//! the observed information of the BT likelihood gives Fisher intervals.

use nalgebra::DMatrix;

use super::graph::{Graph, NOT_RANKED};
use super::lists::{add_into, Selection, Visitor};
use super::optimize::{best_prior_shift, squarem, Fitted, Objective};

const BOUND: f64 = 300.0;

struct CountAccumulator<'a> {
    local: &'a [u32],
    n: usize,
    /// Row-major: wins[i * n + j] = times i beat j.
    wins: Vec<f64>,
    /// Row-major: tied pairs, counted once at [later][earlier].
    ties: Vec<f64>,
    entry_local: Vec<u32>,
}

impl Visitor for CountAccumulator<'_> {
    fn list(&mut self, _position: usize, models: &[u32], ends: &[u32], weight: f64) {
        if ends.len() < 2 || self.local[models[0] as usize] == NOT_RANKED {
            return;
        }
        self.entry_local.clear();
        self.entry_local
            .extend(models.iter().map(|&m| self.local[m as usize]));
        let mut start = 0usize;
        for &end in ends {
            let end = end as usize;
            for p in start..end {
                let row = self.entry_local[p] as usize * self.n;
                for &other in &self.entry_local[end..] {
                    self.wins[row + other as usize] += weight;
                }
                for &other in &self.entry_local[start..p] {
                    self.ties[row + other as usize] += weight;
                }
            }
            start = end;
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
        let (a, b) = (self.local[model_a as usize], self.local[model_b as usize]);
        if model_a == model_b || a == NOT_RANKED {
            return;
        }
        let (a, b) = (a as usize, b as usize);
        self.wins[a * self.n + b] += weight * credit_a;
        self.wins[b * self.n + a] += weight * (1.0 - credit_a);
    }
}

/// The BT objective on a dense count matrix over the ranked models (local indexes).
pub(crate) struct BradleyTerry {
    n: usize,
    /// Symmetric: comparisons between i and j.
    pairs: Vec<f64>,
    /// Total wins per model, prior included.
    wins: Vec<f64>,
    alpha: f64,
}

impl BradleyTerry {
    pub fn new(selection: &Selection, graph: &Graph, alpha: f64) -> Self {
        let n = graph.ranked_models.len();
        let counts = selection.fold(
            || CountAccumulator {
                local: &graph.local,
                n,
                wins: vec![0.0; n * n],
                ties: vec![0.0; n * n],
                entry_local: Vec::new(),
            },
            |mut a, b| {
                add_into(&mut a.wins, &b.wins);
                add_into(&mut a.ties, &b.ties);
                a
            },
        );
        let mut pairs = vec![0.0; n * n];
        let mut wins = vec![alpha; n];
        for i in 0..n {
            for j in 0..n {
                let tie = 0.5 * (counts.ties[i * n + j] + counts.ties[j * n + i]);
                wins[i] += counts.wins[i * n + j] + tie;
                pairs[i * n + j] = counts.wins[i * n + j] + counts.wins[j * n + i] + 2.0 * tie;
            }
        }
        BradleyTerry {
            n,
            pairs,
            wins,
            alpha,
        }
    }

    /// θ and the MM denominators (prior included).
    fn denominators(&self, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let theta: Vec<f64> = x.iter().map(|b| b.exp()).collect();
        let denominator = (0..self.n)
            .map(|i| {
                let row = &self.pairs[i * self.n..(i + 1) * self.n];
                let sum: f64 = row
                    .iter()
                    .zip(&theta)
                    .map(|(count, t)| count / (theta[i] + t))
                    .sum();
                sum + 2.0 * self.alpha / (1.0 + theta[i])
            })
            .collect();
        (theta, denominator)
    }

    fn residual(&self, theta: &[f64], denominator: &[f64]) -> f64 {
        (0..self.n)
            .map(|i| {
                let step = (self.wins[i] / (theta[i] * denominator[i])).ln();
                if step.is_nan() {
                    f64::INFINITY
                } else {
                    step.abs()
                }
            })
            .fold(0.0, f64::max)
    }

    /// The observed information at local log-strengths `x`.
    pub fn information(&self, x: &[f64]) -> DMatrix<f64> {
        let theta: Vec<f64> = x.iter().map(|b| b.exp()).collect();
        let mut information = DMatrix::<f64>::zeros(self.n, self.n);
        for i in 0..self.n {
            let mut diagonal = 2.0 * self.alpha * theta[i] / ((1.0 + theta[i]) * (1.0 + theta[i]));
            for j in 0..self.n {
                if i != j {
                    let total = theta[i] + theta[j];
                    let term = self.pairs[i * self.n + j] * theta[i] * theta[j] / (total * total);
                    information[(i, j)] = -term;
                    diagonal += term;
                }
            }
            information[(i, i)] = diagonal;
        }
        information
    }
}

impl Objective for BradleyTerry {
    fn mm_step(&self, x: &[f64]) -> (Vec<f64>, f64) {
        let (theta, denominator) = self.denominators(x);
        let residual = self.residual(&theta, &denominator);
        let mut next: Vec<f64> = (0..self.n)
            .map(|i| self.wins[i].ln() - denominator[i].ln())
            .collect();
        self.normalise(&mut next);
        (next, residual)
    }

    fn evaluate(&self, x: &[f64]) -> (f64, Vec<f64>, f64) {
        let (theta, denominator) = self.denominators(x);
        let residual = self.residual(&theta, &denominator);
        let mut value = 0.0;
        for i in 0..self.n {
            value -= self.wins[i] * x[i] - 2.0 * self.alpha * theta[i].ln_1p();
            for j in 0..i {
                value += self.pairs[i * self.n + j] * (theta[i] + theta[j]).ln();
            }
        }
        let gradient = (0..self.n)
            .map(|i| theta[i] * denominator[i] - self.wins[i])
            .collect();
        (value, gradient, residual)
    }

    fn normalise(&self, x: &mut [f64]) {
        for value in x.iter_mut() {
            *value = if value.is_nan() {
                0.0
            } else {
                value.clamp(-BOUND, BOUND)
            };
        }
        if self.alpha > 0.0 {
            best_prior_shift(x, |_| true);
        } else if self.n > 0 {
            let mean = x.iter().sum::<f64>() / self.n as f64;
            x.iter_mut().for_each(|value| *value -= mean);
        }
    }
}

/// Fits BT on the pair counts of `selection`; `start` and the result are by model index.
pub(crate) fn bradley_terry_counts(
    selection: &Selection,
    graph: &Graph,
    alpha: f64,
    start: &[f64],
    tolerance: f64,
    max_iterations: usize,
) -> (BradleyTerry, Fitted) {
    let objective = BradleyTerry::new(selection, graph, alpha);
    let local_start = graph
        .ranked_models
        .iter()
        .map(|&m| start[m as usize])
        .collect();
    let fitted = squarem(&objective, local_start, tolerance, max_iterations);
    (objective, fitted)
}
