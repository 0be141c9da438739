//! The mean-score baseline: each model's mean over its measurements of a score where
//! higher is better. Cardinal values are oriented by their sample's order (a sample whose
//! best-first entries ascend is lower-is-better, so its values count negated; a sample
//! whose values are all equal cannot be told apart and counts as given), so a binary
//! benchmark gives accuracy. A comparison gives each side its credit; a ranking of length
//! L gives 1 − position/(L−1), tied entries sharing their mean position.
//!
//! Its interval treats a model's measurements as independent draws of its score: for
//! scores in [0, 1] (every binary, pairwise and ranking one) the Agresti–Coull interval
//! (Agresti & Coull 1998), whose variance p(1 − p) bounds that of any score in [0, 1];
//! otherwise the normal interval of the mean. Models are independent, so the
//! covariance is diagonal.

use nalgebra::DMatrix;

use super::fisher::normal_quantile;
use super::lists::{add_into, Selection, Visitor};
use super::uncertainty::Uncertainty;

struct MeanAccumulator {
    sums: Vec<f64>,
    squares: Vec<f64>,
    counts: Vec<f64>,
    /// Per model: whether a score outside [0, 1] was seen.
    unbounded: Vec<bool>,
}

impl MeanAccumulator {
    fn new(n_models: usize) -> Self {
        MeanAccumulator {
            sums: vec![0.0; n_models],
            squares: vec![0.0; n_models],
            counts: vec![0.0; n_models],
            unbounded: vec![false; n_models],
        }
    }

    fn add(&mut self, model: u32, score: f64, weight: f64) {
        let model = model as usize;
        self.sums[model] += weight * score;
        self.squares[model] += weight * score * score;
        self.counts[model] += weight;
        self.unbounded[model] |= !(0.0..=1.0).contains(&score);
    }

    fn merge(mut self, other: Self) -> Self {
        add_into(&mut self.sums, &other.sums);
        add_into(&mut self.squares, &other.squares);
        add_into(&mut self.counts, &other.counts);
        for (mine, theirs) in self.unbounded.iter_mut().zip(other.unbounded) {
            *mine |= theirs;
        }
        self
    }
}

impl Visitor for MeanAccumulator {
    fn list(&mut self, _position: usize, models: &[u32], ends: &[u32], weight: f64) {
        let length = models.len();
        if length < 2 {
            return;
        }
        let mut start = 0usize;
        for &end in ends {
            let end = end as usize;
            let mean_position = (start + end - 1) as f64 / 2.0;
            let score = 1.0 - mean_position / (length - 1) as f64;
            for &model in &models[start..end] {
                self.add(model, score, weight);
            }
            start = end;
        }
    }

    fn cardinal(
        &mut self,
        _position: usize,
        models: &[u32],
        values: &[f32],
        _ends: &[u32],
        weight: f64,
    ) {
        let ascending = values.first() < values.last();
        let sign = if ascending { -1.0 } else { 1.0 };
        for (&model, &value) in models.iter().zip(values) {
            self.add(model, sign * f64::from(value), weight);
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
        self.add(model_a, credit_a, weight);
        self.add(model_b, 1.0 - credit_a, weight);
    }
}

fn accumulate(selection: &Selection) -> MeanAccumulator {
    let n_models = selection.data.n_models;
    selection.fold(|| MeanAccumulator::new(n_models), MeanAccumulator::merge)
}

/// Mean scores of the ranked models (NaN for the others).
pub(crate) fn mean_scores(selection: &Selection, ranked: &[bool]) -> Vec<f64> {
    let accumulator = accumulate(selection);
    (0..selection.data.n_models)
        .map(|m| {
            if ranked[m] {
                accumulator.sums[m] / accumulator.counts[m]
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// The means' intervals at `level` and their (diagonal) covariance, in `ranked_models`
/// order.
pub(crate) fn mean_uncertainty(
    selection: &Selection,
    ranked_models: &[u32],
    level: f64,
) -> Uncertainty {
    let accumulator = accumulate(selection);
    let z = normal_quantile(0.5 + level / 2.0);
    let n = ranked_models.len();
    let mut covariance = DMatrix::<f64>::zeros(n, n);
    let intervals = ranked_models
        .iter()
        .enumerate()
        .map(|(row, &model)| {
            let model = model as usize;
            let (count, sum) = (accumulator.counts[model], accumulator.sums[model]);
            let mean = sum / count;
            if accumulator.unbounded[model] {
                let variance = if count > 1.0 {
                    ((accumulator.squares[model] - count * mean * mean) / (count - 1.0)).max(0.0)
                } else {
                    f64::INFINITY
                };
                covariance[(row, row)] = variance / count;
                let half = z * (variance / count).sqrt();
                (mean - half, mean + half)
            } else {
                let adjusted = count + z * z;
                let centre = (sum + z * z / 2.0) / adjusted;
                let variance = centre * (1.0 - centre) / adjusted;
                covariance[(row, row)] = variance;
                let half = z * variance.sqrt();
                ((centre - half).max(0.0), (centre + half).min(1.0))
            }
        })
        .collect();
    Uncertainty {
        covariance,
        intervals: Some(intervals),
    }
}
