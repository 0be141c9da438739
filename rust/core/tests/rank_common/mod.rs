//! Shared helpers of the ranking tests: a hand builder of datasets and samplers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use onebench_core::data::Dataset;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Builds a [`Dataset`] sample by sample; each sample may mix kinds.
pub struct Builder {
    data: Dataset,
    open: bool,
}

impl Builder {
    pub fn new(n_models: usize) -> Self {
        Builder {
            data: Dataset::empty(0, n_models),
            open: false,
        }
    }

    /// Starts a new sample.
    pub fn sample(&mut self) -> &mut Self {
        let data = &mut self.data;
        data.n_samples += 1;
        data.cardinal
            .offsets
            .push(*data.cardinal.offsets.last().unwrap());
        data.pairwise
            .offsets
            .push(*data.pairwise.offsets.last().unwrap());
        data.rankings
            .offsets
            .push(*data.rankings.offsets.last().unwrap());
        self.open = true;
        self
    }

    /// Cardinal entries of the current sample (at most once per sample), sorted best first.
    pub fn cardinal(&mut self, entries: &[(u32, f32)], lower_is_better: bool) -> &mut Self {
        assert!(self.open);
        let mut entries = entries.to_vec();
        if lower_is_better {
            entries.sort_by(|a, b| a.1.total_cmp(&b.1));
        } else {
            entries.sort_by(|a, b| b.1.total_cmp(&a.1));
        }
        let cardinal = &mut self.data.cardinal;
        for (model, value) in entries {
            cardinal.models.push(model);
            cardinal.values.push(value);
        }
        *cardinal.offsets.last_mut().unwrap() = cardinal.models.len() as u64;
        self
    }

    pub fn comparison(&mut self, model_a: u32, model_b: u32, weight_a: f32) -> &mut Self {
        assert!(self.open);
        let pairwise = &mut self.data.pairwise;
        pairwise.model_a.push(model_a);
        pairwise.model_b.push(model_b);
        pairwise.weight_a.push(weight_a);
        *pairwise.offsets.last_mut().unwrap() = pairwise.model_a.len() as u64;
        self
    }

    /// A ranking given as groups best first.
    pub fn ranking(&mut self, groups: &[&[u32]]) -> &mut Self {
        assert!(self.open);
        let rankings = &mut self.data.rankings;
        for (group, models) in groups.iter().enumerate() {
            for &model in *models {
                rankings.models.push(model);
                rankings.groups.push(group as u32);
            }
        }
        rankings.ranking_offsets.push(rankings.models.len() as u64);
        *rankings.offsets.last_mut().unwrap() = (rankings.ranking_offsets.len() - 1) as u64;
        self
    }

    pub fn build(&self) -> Dataset {
        self.data.clone()
    }
}

/// A Plackett–Luce draw of a full ranking of `items` (Gumbel-max: sorting β + Gumbel
/// noise gives the PL distribution).
pub fn pl_ranking(rng: &mut SmallRng, beta: &[f64], items: &[u32]) -> Vec<u32> {
    let mut keyed: Vec<(f64, u32)> = items
        .iter()
        .map(|&i| {
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            (beta[i as usize] - (-u.ln()).ln(), i)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Kendall's tau-a between two score vectors over the given indexes.
pub fn kendall_tau(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len();
    let (mut concordant, mut discordant) = (0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let s = (a[i] - a[j]) * (b[i] - b[j]);
            if s > 0.0 {
                concordant += 1;
            } else if s < 0.0 {
                discordant += 1;
            }
        }
    }
    (concordant - discordant) as f64 / (n * (n - 1) / 2) as f64
}

/// A synthetic benchmark: `n_samples` samples, each measuring every model with
/// probability 1 − `missing`; even samples are binary (model i correct with probability
/// logistic(β_i + d_s)), odd ones numeric with distinct values (PL order via Gumbel).
pub fn synthetic(rng: &mut SmallRng, beta: &[f64], n_samples: usize, missing: f64) -> Dataset {
    let n_models = beta.len();
    let mut models: Vec<u32> = Vec::new();
    let mut values: Vec<f32> = Vec::new();
    let mut offsets = vec![0u64];
    let mut present: Vec<u32> = Vec::with_capacity(n_models);
    for sample in 0..n_samples {
        present.clear();
        for model in 0..n_models as u32 {
            if missing == 0.0 || rng.random::<f64>() >= missing {
                present.push(model);
            }
        }
        if sample % 2 == 0 {
            let difficulty: f64 = rng.random_range(-1.5..1.5);
            let mut correct = Vec::new();
            let mut wrong = Vec::new();
            for &model in &present {
                let p = 1.0 / (1.0 + (-(beta[model as usize] - difficulty)).exp());
                if rng.random::<f64>() < p {
                    correct.push(model);
                } else {
                    wrong.push(model);
                }
            }
            for model in correct {
                models.push(model);
                values.push(1.0);
            }
            for model in wrong {
                models.push(model);
                values.push(0.0);
            }
        } else {
            let order = pl_ranking(rng, beta, &present);
            let length = order.len();
            for (position, model) in order.into_iter().enumerate() {
                models.push(model);
                values.push((length - position) as f32);
            }
        }
        offsets.push(models.len() as u64);
    }
    let mut data = Dataset::empty(n_samples, n_models);
    data.cardinal.offsets = offsets;
    data.cardinal.models = models;
    data.cardinal.values = values;
    data
}

/// The log posterior of Plackett–Luce with Breslow ties, written directly from its
/// definition (quadratic, for checks only): lists from cardinal values and rankings,
/// comparisons with credit, and `alpha` wins and losses against a reference of β = 0.
pub fn log_posterior(data: &Dataset, beta: &[f64], alpha: f64, ranked: &[bool]) -> f64 {
    let mut total = 0.0;
    let list = |models: &[u32], keys: &[f64]| -> f64 {
        let mut value = 0.0;
        let mut start = 0;
        while start < models.len() {
            let mut end = start + 1;
            while end < models.len() && keys[end] == keys[start] {
                end += 1;
            }
            if end == models.len() {
                break; // the last group chooses nothing
            }
            let risk: f64 = models[start..]
                .iter()
                .map(|&m| beta[m as usize].exp())
                .sum();
            for &m in &models[start..end] {
                value += beta[m as usize] - risk.ln();
            }
            start = end;
        }
        value
    };
    for sample in 0..data.n_samples {
        let range = data.cardinal.range(sample);
        let keys: Vec<f64> = data.cardinal.values[range.clone()]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        total += list(&data.cardinal.models[range], &keys);
        for ranking in data.rankings.range(sample) {
            let range = data.rankings.entries(ranking);
            let keys: Vec<f64> = data.rankings.groups[range.clone()]
                .iter()
                .map(|&g| f64::from(g))
                .collect();
            total += list(&data.rankings.models[range], &keys);
        }
        for c in data.pairwise.range(sample) {
            let (a, b) = (
                data.pairwise.model_a[c] as usize,
                data.pairwise.model_b[c] as usize,
            );
            let w = f64::from(data.pairwise.weight_a[c]);
            let log_sum = (beta[a].exp() + beta[b].exp()).ln();
            total += w * (beta[a] - log_sum) + (1.0 - w) * (beta[b] - log_sum);
        }
    }
    for (m, &r) in ranked.iter().enumerate() {
        if r {
            total += alpha * beta[m] - 2.0 * alpha * beta[m].exp().ln_1p();
        }
    }
    total
}

/// Half binary samples (Rasch, difficulty ~ U(-1.5, 1.5)), half numeric with distinct
/// values (a Plackett–Luce ranking); strengths ~ U(-2, 2). Like [`synthetic`], but skips
/// absent models geometrically, so 95% missingness costs O(present) draws (the timings).
pub fn sparse(seed: u64, n_models: usize, n_samples: usize, missing: f64) -> (Vec<f64>, Dataset) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let beta: Vec<f64> = (0..n_models).map(|_| rng.random_range(-2.0..2.0)).collect();
    if missing == 0.0 {
        return (beta.clone(), synthetic(&mut rng, &beta, n_samples, 0.0));
    }
    let log_missing = missing.ln();
    let mut present = Vec::new();
    let mut models = Vec::new();
    let mut values = Vec::new();
    let mut offsets = vec![0u64];
    for sample in 0..n_samples {
        present.clear();
        let mut next = -1i64;
        loop {
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            next += 1 + (u.ln() / log_missing).floor() as i64;
            if next >= n_models as i64 {
                break;
            }
            present.push(next as u32);
        }
        if sample % 2 == 0 {
            let difficulty: f64 = rng.random_range(-1.5..1.5);
            let (mut correct, mut wrong) = (Vec::new(), Vec::new());
            for &m in &present {
                let p = 1.0 / (1.0 + (difficulty - beta[m as usize]).exp());
                if rng.random::<f64>() < p {
                    correct.push(m)
                } else {
                    wrong.push(m)
                }
            }
            values.extend(std::iter::repeat_n(1.0f32, correct.len()));
            values.extend(std::iter::repeat_n(0.0f32, wrong.len()));
            models.extend(correct);
            models.extend(wrong);
        } else {
            let order = pl_ranking(&mut rng, &beta, &present);
            let length = order.len();
            values.extend((0..length).map(|p| (length - p) as f32));
            models.extend(order);
        }
        offsets.push(models.len() as u64);
    }
    let mut data = Dataset::empty(n_samples, n_models);
    data.cardinal.offsets = offsets;
    data.cardinal.models = models;
    data.cardinal.values = values;
    (beta, data)
}

/// [`sparse`], with a line on stdout saying what was built and in how long (the timings).
pub fn announced_sparse(n_models: usize, n_samples: usize, missing: f64) -> (Vec<f64>, Dataset) {
    let started = std::time::Instant::now();
    let (beta, data) = sparse(7, n_models, n_samples, missing);
    println!(
        "{n_models} models x {n_samples} samples, {:.0}% missing: {} measurements (built in {:.1} s, {} threads)",
        missing * 100.0,
        data.n_measurements(),
        started.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    (beta, data)
}

/// Runs one fit, prints its wall time, passes and tau to `beta`; returns its scores.
pub fn timed(
    label: &str,
    beta: &[f64],
    fit: impl FnOnce() -> onebench_core::rank::RankResult,
) -> Vec<f64> {
    let started = std::time::Instant::now();
    let result = fit();
    let seconds = started.elapsed().as_secs_f64();
    let tau = kendall_tau(&result.scores, beta);
    println!(
        "  {label:<28} {seconds:>7.3} s  passes {:>4}  converged {}  tau {tau:.4}",
        result.iterations, result.converged
    );
    result.scores
}
