//! The links pass: validates model indexes, counts each model's measurements and samples,
//! sums the numeric values of each spread group, and joins what the data tie together.
//!
//! A sample's difficulty is drawn around its group's location, so every model measured in
//! a group is tied to that location: a model seen alone on a sample still has a place on
//! the common scale. The pass therefore joins each cardinal measurement's model to its
//! group's node, and the two models of a comparison or the members of a ranking to each
//! other (the union-find of `rank::graph`).

use super::super::graph::Coverage;
use super::super::lists::{Selection, Visitor};
use super::layout::{Reading, NONE};

/// First pass: validates model indexes, counts measurements, collects the links, and sums
/// the numeric values of each spread group.
pub(crate) struct Links<'a> {
    pub selection: Selection<'a>,
    pub location: &'a [u32],
    pub spread: &'a [u32],
    pub reading: &'a [Reading],
    /// Per location group × model: measured there (unioned after the pass; a union per
    /// measurement would cost more than the pass). Empty: union directly.
    pub seen: Vec<bool>,
    /// Per spread group: Σ v, Σ v², count of oriented numeric values.
    pub moments: Vec<[f64; 3]>,
    /// Counts and links over the models, then one node per location group.
    pub coverage: Coverage,
    pub pair_work: f64,
    pub entries: f64,
    pub has_ties: bool,
}

impl Links<'_> {
    pub fn merge(mut self, other: Links) -> Self {
        self.coverage = self.coverage.merge(other.coverage);
        for (mine, theirs) in self.seen.iter_mut().zip(&other.seen) {
            *mine |= theirs;
        }
        for (mine, theirs) in self.moments.iter_mut().zip(&other.moments) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        self.pair_work += other.pair_work;
        self.entries += other.entries;
        self.has_ties |= other.has_ties;
        self
    }
}

impl Visitor for Links<'_> {
    fn list(&mut self, position: usize, models: &[u32], ends: &[u32], _weight: f64) {
        self.coverage.list(position, models, ends);
        let length = models.len() as f64;
        self.entries += length;
        self.pair_work += length * length / 2.0;
    }

    fn cardinal(
        &mut self,
        position: usize,
        models: &[u32],
        values: &[f32],
        _ends: &[u32],
        _weight: f64,
    ) {
        let mut valid = true;
        for &model in models {
            valid &= self.coverage.count(position, model);
        }
        let length = models.len() as f64;
        self.entries += length;
        self.pair_work += (length + 2.0) * (length + 2.0) / 2.0;
        let sample = self.selection.sample(position);
        let group = self.location[sample];
        if !valid || group == NONE {
            return;
        }
        let n_models = self.coverage.n_models;
        if self.seen.is_empty() {
            let node = n_models as u32 + group;
            for &model in models {
                self.coverage.link(node, model);
            }
        } else {
            let row = group as usize * n_models;
            for &model in models {
                self.coverage.informative[model as usize] = true;
                self.seen[row + model as usize] = true;
            }
        }
        if let Reading::Numeric { sign } = self.reading[sample] {
            let moments = &mut self.moments[self.spread[sample] as usize];
            for &value in values {
                let value = sign * f64::from(value);
                moments[0] += value;
                moments[1] += value * value;
                moments[2] += 1.0;
            }
        }
    }

    fn comparison(
        &mut self,
        position: usize,
        model_a: u32,
        model_b: u32,
        credit_a: f64,
        _weight: f64,
    ) {
        self.entries += 2.0;
        self.pair_work += 2.0;
        if self.coverage.comparison(position, model_a, model_b) {
            self.has_ties |= credit_a == 0.5;
        }
    }
}
