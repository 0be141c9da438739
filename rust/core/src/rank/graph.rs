//! The comparison graph of a subset: which models can be ranked against each other.
//!
//! Two models are linked when they meet in an informative observation: a list with at
//! least two groups (a one-group list, e.g. a binary sample every model passed, says
//! nothing about order) or a comparison. Connected components come from a union-find
//! (union by size, path halving; Tarjan 1975), built per chunk in parallel and merged.
//! The largest component is ranked; the others are reported, never silently ranked on a
//! common scale, because nothing in the data relates their scores.

use super::lists::{Selection, Visitor};
use crate::error::{Error, Result};

/// The outcome of the graph pass.
pub(crate) struct Graph {
    pub ranked: Vec<bool>,
    /// Ranked models in index order; `local[model]` is the position of a ranked model here.
    pub ranked_models: Vec<u32>,
    pub local: Vec<u32>,
    pub disconnected: Vec<Vec<u32>>,
    pub n_measurements: Vec<u64>,
    pub n_samples: Vec<u64>,
}

/// Marks a model that is not ranked in `Graph::local`.
pub(crate) const NOT_RANKED: u32 = u32::MAX;

struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut node: u32) -> u32 {
        while self.parent[node as usize] != node {
            let grandparent = self.parent[self.parent[node as usize] as usize];
            self.parent[node as usize] = grandparent;
            node = grandparent;
        }
        node
    }

    fn union(&mut self, a: u32, b: u32) {
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

struct GraphAccumulator {
    n_models: usize,
    components: UnionFind,
    informative: Vec<bool>,
    n_measurements: Vec<u64>,
    n_samples: Vec<u64>,
    /// `last_position[m]` = 1 + the last position counted for model m (distinct samples).
    last_position: Vec<usize>,
    /// The first model index out of range, if any.
    out_of_range: Option<u32>,
}

impl GraphAccumulator {
    fn new(n_models: usize) -> Self {
        GraphAccumulator {
            n_models,
            components: UnionFind::new(n_models),
            informative: vec![false; n_models],
            n_measurements: vec![0; n_models],
            n_samples: vec![0; n_models],
            last_position: vec![0; n_models],
            out_of_range: None,
        }
    }

    /// Counts one measurement of `model`; false if the index is out of range.
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

    fn merge(mut self, other: GraphAccumulator) -> GraphAccumulator {
        for model in 0..self.n_models {
            self.n_measurements[model] += other.n_measurements[model];
            self.n_samples[model] += other.n_samples[model];
            self.informative[model] |= other.informative[model];
        }
        let mut other_components = other.components;
        for model in 0..self.n_models as u32 {
            let root = other_components.find(model);
            if root != model {
                self.components.union(model, root);
            }
        }
        self.out_of_range = self.out_of_range.or(other.out_of_range);
        self
    }
}

impl Visitor for GraphAccumulator {
    fn list(&mut self, position: usize, models: &[u32], ends: &[u32], _weight: f64) {
        let mut valid = true;
        for &model in models {
            valid &= self.count(position, model);
        }
        if ends.len() >= 2 && valid {
            let first = models[0];
            for &model in models {
                self.informative[model as usize] = true;
                self.components.union(first, model);
            }
        }
    }

    fn comparison(
        &mut self,
        position: usize,
        model_a: u32,
        model_b: u32,
        _credit: f64,
        _weight: f64,
    ) {
        let valid_a = self.count(position, model_a);
        let valid_b = model_a == model_b || self.count(position, model_b);
        if valid_a && valid_b && model_a != model_b {
            self.informative[model_a as usize] = true;
            self.informative[model_b as usize] = true;
            self.components.union(model_a, model_b);
        }
    }
}

/// Counts measurements and finds the components of the comparison graph of `selection`.
pub(crate) fn comparison_graph(selection: &Selection) -> Result<Graph> {
    let n_models = selection.data.n_models;
    let accumulator = selection.fold(|| GraphAccumulator::new(n_models), GraphAccumulator::merge);
    if let Some(model) = accumulator.out_of_range {
        return Err(Error::invalid(
            "models",
            None,
            format!("model index {model} out of range for {n_models} models"),
        ));
    }
    let GraphAccumulator {
        mut components,
        informative,
        n_measurements,
        n_samples,
        ..
    } = accumulator;
    // Group informative models by root, in index order of their smallest member.
    let mut group_of_root = vec![u32::MAX; n_models];
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for model in 0..n_models as u32 {
        if !informative[model as usize] {
            continue;
        }
        let root = components.find(model) as usize;
        if group_of_root[root] == u32::MAX {
            group_of_root[root] = groups.len() as u32;
            groups.push(Vec::new());
        }
        groups[group_of_root[root] as usize].push(model);
    }
    // The largest component is ranked; ties go to the one with the smallest model index.
    let main = groups
        .iter()
        .enumerate()
        .max_by(|(index_a, a), (index_b, b)| a.len().cmp(&b.len()).then(index_b.cmp(index_a)))
        .map(|(index, _)| index);
    let mut ranked = vec![false; n_models];
    let mut local = vec![NOT_RANKED; n_models];
    let mut ranked_models = Vec::new();
    let mut disconnected = Vec::new();
    for (index, group) in groups.into_iter().enumerate() {
        if Some(index) == main {
            for (position, &model) in group.iter().enumerate() {
                ranked[model as usize] = true;
                local[model as usize] = position as u32;
            }
            ranked_models = group;
        } else {
            disconnected.push(group);
        }
    }
    Ok(Graph {
        ranked,
        ranked_models,
        local,
        disconnected,
        n_measurements,
        n_samples,
    })
}
