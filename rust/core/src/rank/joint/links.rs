//! The links pass: validates model indexes, counts each model's measurements and samples,
//! sums the numeric values of each spread group, and joins what the data tie together.
//!
//! A sample's difficulty is drawn around its group's location, so every model measured in
//! a group is tied to that location: a model seen alone on a sample still has a place on
//! the common scale. The pass therefore joins each cardinal measurement's model to its
//! group's node, and the two models of a comparison or the members of a ranking to each
//! other (union-find with union by size and path halving, Tarjan 1975).

use super::super::lists::{Selection, Visitor};
use super::layout::{Reading, NONE};

pub(crate) struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    pub fn find(&mut self, mut node: u32) -> u32 {
        while self.parent[node as usize] != node {
            let grandparent = self.parent[self.parent[node as usize] as usize];
            self.parent[node as usize] = grandparent;
            node = grandparent;
        }
        node
    }

    pub fn union(&mut self, a: u32, b: u32) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a as usize] < self.size[b as usize] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b as usize] = a;
        self.size[a as usize] += self.size[b as usize];
    }
}

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
    pub n_models: usize,
    pub components: UnionFind,
    pub informative: Vec<bool>,
    pub n_measurements: Vec<u64>,
    pub n_samples: Vec<u64>,
    pub last_position: Vec<usize>,
    pub out_of_range: Option<u32>,
    pub pair_work: f64,
    pub entries: f64,
    pub has_ties: bool,
}

impl Links<'_> {
    #[inline]
    fn count(&mut self, position: usize, model: u32) -> bool {
        let index = model as usize;
        if index >= self.n_models {
            self.out_of_range.get_or_insert(model);
            return false;
        }
        self.n_measurements[index] += 1;
        if self.last_position[index] != position + 1 {
            self.last_position[index] = position + 1;
            self.n_samples[index] += 1;
        }
        true
    }

    pub fn merge(mut self, other: Links) -> Self {
        add_counts(&mut self.n_measurements, &other.n_measurements);
        add_counts(&mut self.n_samples, &other.n_samples);
        for (mine, theirs) in self.informative.iter_mut().zip(&other.informative) {
            *mine |= theirs;
        }
        let mut theirs = other.components;
        for node in 0..theirs.parent.len() as u32 {
            let root = theirs.find(node);
            if root != node {
                self.components.union(node, root);
            }
        }
        for (mine, theirs) in self.seen.iter_mut().zip(&other.seen) {
            *mine |= theirs;
        }
        for (mine, theirs) in self.moments.iter_mut().zip(&other.moments) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        self.out_of_range = self.out_of_range.or(other.out_of_range);
        self.pair_work += other.pair_work;
        self.entries += other.entries;
        self.has_ties |= other.has_ties;
        self
    }
}

fn add_counts(target: &mut [u64], source: &[u64]) {
    for (target, source) in target.iter_mut().zip(source) {
        *target += source;
    }
}

impl Visitor for Links<'_> {
    fn list(&mut self, position: usize, models: &[u32], ends: &[u32], _weight: f64) {
        let mut valid = true;
        for &model in models {
            valid &= self.count(position, model);
        }
        self.entries += models.len() as f64;
        let length = models.len() as f64;
        self.pair_work += length * length / 2.0;
        if ends.len() >= 2 && valid {
            for &model in models {
                self.informative[model as usize] = true;
                self.components.union(models[0], model);
            }
        }
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
            valid &= self.count(position, model);
        }
        let length = models.len() as f64;
        self.entries += length;
        self.pair_work += (length + 2.0) * (length + 2.0) / 2.0;
        let sample = self.selection.sample(position);
        let group = self.location[sample];
        if !valid || group == NONE {
            return;
        }
        if self.seen.is_empty() {
            let node = (self.n_models as u32) + group;
            for &model in models {
                self.informative[model as usize] = true;
                self.components.union(node, model);
            }
        } else {
            let row = group as usize * self.n_models;
            for &model in models {
                self.informative[model as usize] = true;
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
        let valid_a = self.count(position, model_a);
        let valid_b = model_a == model_b || self.count(position, model_b);
        self.entries += 2.0;
        self.pair_work += 2.0;
        if valid_a && valid_b && model_a != model_b {
            self.has_ties |= credit_a == 0.5;
            self.informative[model_a as usize] = true;
            self.informative[model_b as usize] = true;
            self.components.union(model_a, model_b);
        }
    }
}
