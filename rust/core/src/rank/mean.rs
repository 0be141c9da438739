//! The mean-score baseline: each model's mean over its measurements of a score where
//! higher is better. Cardinal values are oriented by their sample's order (a sample whose
//! best-first entries ascend is lower-is-better, so its values count negated; a sample
//! whose values are all equal cannot be told apart and counts as given), so a binary
//! benchmark gives accuracy. A comparison gives each side its credit; a ranking of length
//! L gives 1 − position/(L−1), tied entries sharing their mean position.

use super::lists::{add_into, Selection, Visitor};

struct MeanAccumulator {
    sums: Vec<f64>,
    counts: Vec<f64>,
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
                self.sums[model as usize] += weight * score;
                self.counts[model as usize] += weight;
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
            self.sums[model as usize] += weight * sign * f64::from(value);
            self.counts[model as usize] += weight;
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
        self.sums[model_a as usize] += weight * credit_a;
        self.counts[model_a as usize] += weight;
        self.sums[model_b as usize] += weight * (1.0 - credit_a);
        self.counts[model_b as usize] += weight;
    }
}

/// Mean scores of the ranked models (NaN for the others).
pub(crate) fn mean_scores(selection: &Selection, ranked: &[bool]) -> Vec<f64> {
    let n_models = selection.data.n_models;
    let accumulator = selection.fold(
        || MeanAccumulator {
            sums: vec![0.0; n_models],
            counts: vec![0.0; n_models],
        },
        |mut a, b| {
            add_into(&mut a.sums, &b.sums);
            add_into(&mut a.counts, &b.counts);
            a
        },
    );
    (0..n_models)
        .map(|m| {
            if ranked[m] {
                accumulator.sums[m] / accumulator.counts[m]
            } else {
                f64::NAN
            }
        })
        .collect()
}
