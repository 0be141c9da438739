//! The Borda-count baseline: each model's mean, over the lists it is in, of the share of
//! the other entries it beats, ties counting half: (beaten + 0.5·tied) / (L − 1). A
//! comparison is a list of two in which each side scores its credit.

use super::lists::{add_into, Selection, Visitor};

struct BordaAccumulator {
    sums: Vec<f64>,
    counts: Vec<f64>,
}

impl Visitor for BordaAccumulator {
    fn list(&mut self, _position: usize, models: &[u32], ends: &[u32], weight: f64) {
        let length = models.len();
        if length < 2 {
            return;
        }
        let mut start = 0usize;
        for &end in ends {
            let end = end as usize;
            let beaten = (length - end) as f64;
            let tied = (end - start - 1) as f64;
            let score = (beaten + 0.5 * tied) / (length - 1) as f64;
            for &model in &models[start..end] {
                self.sums[model as usize] += weight * score;
                self.counts[model as usize] += weight;
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
        if model_a == model_b {
            return;
        }
        self.sums[model_a as usize] += weight * credit_a;
        self.counts[model_a as usize] += weight;
        self.sums[model_b as usize] += weight * (1.0 - credit_a);
        self.counts[model_b as usize] += weight;
    }
}

/// Borda scores of the ranked models (NaN for the others).
pub(crate) fn borda_lists(selection: &Selection, ranked: &[bool]) -> Vec<f64> {
    let n_models = selection.data.n_models;
    let accumulator = selection.fold(
        || BordaAccumulator {
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
