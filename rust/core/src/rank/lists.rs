//! Walking the ordered lists of a subset of samples without copying them.
//!
//! Every solver sees the data as two kinds of observation: an ordered *list* of models
//! split into tied groups (a cardinal sample, or one ranking), and a *comparison* of two
//! models with fractional credit (a pairwise measurement). [`Selection`] names the
//! samples to read (a subset of the dataset, each with a weight for the bootstrap) and
//! hands each observation to a [`Visitor`]; [`Selection::fold`] does so in parallel over
//! chunks of samples, one accumulator per chunk, so that a pass costs O(measurements).

use rayon::prelude::*;

use crate::data::Dataset;

/// Receives the observations of a sample.
pub(crate) trait Visitor {
    /// An ordered list: `models` best first, `ends[g]` the end of group `g` in `models`
    /// (so `ends.len()` is the number of groups, at least 1). `position` is the index of
    /// the sample within the selection.
    fn list(&mut self, position: usize, models: &[u32], ends: &[u32], weight: f64);
    /// A comparison: `credit_a` is the credit of `model_a` (0..=1).
    fn comparison(
        &mut self,
        position: usize,
        model_a: u32,
        model_b: u32,
        credit_a: f64,
        weight: f64,
    );
    /// A cardinal sample's list, with its values (best first); by default just a list.
    fn cardinal(
        &mut self,
        position: usize,
        models: &[u32],
        values: &[f32],
        ends: &[u32],
        weight: f64,
    ) {
        let _ = values;
        self.list(position, models, ends, weight);
    }
}

/// The samples to read, in order, with an optional weight per position.
#[derive(Clone, Copy)]
pub(crate) struct Selection<'a> {
    pub data: &'a Dataset,
    /// Sample indexes (validated to be in range); `None` = every sample in order.
    pub subset: Option<&'a [u32]>,
    /// Weight per position (bootstrap multiplicities); `None` = 1 each.
    pub weights: Option<&'a [f64]>,
}

impl<'a> Selection<'a> {
    pub fn new(data: &'a Dataset, subset: Option<&'a [u32]>) -> Self {
        Selection {
            data,
            subset,
            weights: None,
        }
    }

    pub fn with_weights(self, weights: &'a [f64]) -> Self {
        Selection {
            weights: Some(weights),
            ..self
        }
    }

    /// The number of positions.
    pub fn len(&self) -> usize {
        match self.subset {
            Some(subset) => subset.len(),
            None => self.data.n_samples,
        }
    }

    #[inline]
    pub fn sample(&self, position: usize) -> usize {
        match self.subset {
            Some(subset) => subset[position] as usize,
            None => position,
        }
    }

    #[inline]
    pub fn weight(&self, position: usize) -> f64 {
        match self.weights {
            Some(weights) => weights[position],
            None => 1.0,
        }
    }

    /// Hands every observation of the sample at `position` to `visitor`; `ends` is scratch.
    #[inline]
    pub fn visit<V: Visitor>(&self, position: usize, visitor: &mut V, ends: &mut Vec<u32>) {
        let weight = self.weight(position);
        if weight == 0.0 {
            return;
        }
        let sample = self.sample(position);
        let data = self.data;
        let cardinal = &data.cardinal;
        if sample + 1 < cardinal.offsets.len() {
            let range = cardinal.range(sample);
            if !range.is_empty() {
                let values = &cardinal.values[range.clone()];
                group_ends(values, ends);
                visitor.cardinal(position, &cardinal.models[range], values, ends, weight);
            }
        }
        let rankings = &data.rankings;
        if sample + 1 < rankings.offsets.len() {
            for ranking in rankings.range(sample) {
                let range = rankings.entries(ranking);
                if !range.is_empty() {
                    group_ends(&rankings.groups[range.clone()], ends);
                    visitor.list(position, &rankings.models[range], ends, weight);
                }
            }
        }
        let pairwise = &data.pairwise;
        if sample + 1 < pairwise.offsets.len() {
            for comparison in pairwise.range(sample) {
                visitor.comparison(
                    position,
                    pairwise.model_a[comparison],
                    pairwise.model_b[comparison],
                    f64::from(pairwise.weight_a[comparison]),
                    weight,
                );
            }
        }
    }

    /// Visits every position in order on this thread (Elo needs the data order).
    pub fn visit_all<V: Visitor>(&self, visitor: &mut V) {
        let mut ends = Vec::new();
        for position in 0..self.len() {
            self.visit(position, visitor, &mut ends);
        }
    }

    /// Visits every position in parallel: chunks of consecutive positions, each with its
    /// own accumulator from `init`, merged pairwise with `merge`.
    pub fn fold<A, I, M>(&self, init: I, merge: M) -> A
    where
        A: Visitor + Send,
        I: Fn() -> A + Sync + Send,
        M: Fn(A, A) -> A + Sync + Send,
    {
        // A few chunks per thread balance uneven samples; few enough that the per-chunk
        // accumulators (one value per model) cost little next to the data.
        self.fold_chunks(rayon::current_num_threads() * 4, init, merge)
    }

    /// [`Selection::fold`] over `chunks` chunks (one per thread for large accumulators).
    pub fn fold_chunks<A, I, M>(&self, chunks: usize, init: I, merge: M) -> A
    where
        A: Visitor + Send,
        I: Fn() -> A + Sync + Send,
        M: Fn(A, A) -> A + Sync + Send,
    {
        let len = self.len();
        let chunks = chunks.clamp(1, len.max(1));
        let chunk_len = len.div_ceil(chunks).max(1);
        (0..chunks)
            .into_par_iter()
            .map(|chunk| {
                let mut accumulator = init();
                let mut ends = Vec::new();
                let start = (chunk * chunk_len).min(len);
                let end = ((chunk + 1) * chunk_len).min(len);
                for position in start..end {
                    self.visit(position, &mut accumulator, &mut ends);
                }
                accumulator
            })
            .reduce_with(&merge)
            .unwrap_or_else(init)
    }
}

/// Splits a best-first list into tied groups: adjacent equal keys share a group.
#[inline]
pub(crate) fn group_ends<K: PartialEq>(keys: &[K], ends: &mut Vec<u32>) {
    ends.clear();
    for index in 1..keys.len() {
        if keys[index] != keys[index - 1] {
            ends.push(index as u32);
        }
    }
    ends.push(keys.len() as u32);
}

/// Adds `source` into `target` element-wise (merging per-chunk accumulators).
pub(crate) fn add_into(target: &mut [f64], source: &[f64]) {
    for (target, source) in target.iter_mut().zip(source) {
        *target += source;
    }
}

/// The Plackett–Luce risk sets of a list: `risk[g]` = the total strength of groups g, g+1,
/// … (the models still to be chosen when group g is), with `strength` per model. `risk`
/// is cleared first, so one buffer serves every list of a pass.
#[inline]
pub(crate) fn risk_sets(
    models: &[u32],
    ends: &[u32],
    strength: impl Fn(u32) -> f64,
    risk: &mut Vec<f64>,
) {
    risk.clear();
    let mut start = 0usize;
    for &end in ends {
        let end = end as usize;
        risk.push(models[start..end].iter().map(|&m| strength(m)).sum());
        start = end;
    }
    let mut suffix = 0.0;
    for value in risk.iter_mut().rev() {
        suffix += *value;
        *value = suffix;
    }
}
