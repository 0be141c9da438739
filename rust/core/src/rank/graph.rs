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

/// Union-find over model (and, for the joint model, group) nodes.
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

/// What a pass over a selection learns of its models: measurement and sample counts, which
/// models were informatively measured, and who is linked to whom. Built per chunk in
/// parallel and merged; shared by the comparison graph and the joint model's layout.
pub(crate) struct Coverage {
    pub n_models: usize,
    /// Over `n_models` model nodes, then any extra nodes (the joint model's groups).
    pub components: UnionFind,
    pub informative: Vec<bool>,
    pub n_measurements: Vec<u64>,
    pub n_samples: Vec<u64>,
    /// `last_position[m]` = 1 + the last position counted for model m (distinct samples).
    last_position: Vec<usize>,
    /// The first model index out of range, if any.
    out_of_range: Option<u32>,
}

/// The split of the informative models into connected components.
pub(crate) struct Components {
    pub ranked: Vec<bool>,
    /// The largest component in index order; `local[model]` is a ranked model's position.
    pub ranked_models: Vec<u32>,
    pub local: Vec<u32>,
    pub disconnected: Vec<Vec<u32>>,
    /// The union-find root of the ranked component.
    pub main_root: Option<u32>,
}

impl Coverage {
    /// `n_nodes` >= `n_models`: the nodes past the models are for the caller's own use.
    pub fn new(n_models: usize, n_nodes: usize) -> Self {
        Coverage {
            n_models,
            components: UnionFind::new(n_nodes),
            informative: vec![false; n_models],
            n_measurements: vec![0; n_models],
            n_samples: vec![0; n_models],
            last_position: vec![0; n_models],
            out_of_range: None,
        }
    }

    /// Counts one measurement of `model`; false if the index is out of range.
    #[inline]
    pub fn count(&mut self, position: usize, model: u32) -> bool {
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

    /// Marks `model` as informatively measured and links it to `node`.
    #[inline]
    pub fn link(&mut self, node: u32, model: u32) {
        self.informative[model as usize] = true;
        self.components.union(node, model);
    }

    /// Counts a list's measurements and links its members when it orders two or more
    /// groups (and every model index is in range).
    pub fn list(&mut self, position: usize, models: &[u32], ends: &[u32]) {
        let mut valid = true;
        for &model in models {
            valid &= self.count(position, model);
        }
        if ends.len() >= 2 && valid {
            for &model in models {
                self.link(models[0], model);
            }
        }
    }

    /// Counts a comparison's two models and links them; true if it linked them (both in
    /// range and distinct).
    pub fn comparison(&mut self, position: usize, model_a: u32, model_b: u32) -> bool {
        let valid_a = self.count(position, model_a);
        let valid_b = model_a == model_b || self.count(position, model_b);
        let linked = valid_a && valid_b && model_a != model_b;
        if linked {
            self.informative[model_a as usize] = true;
            self.link(model_a, model_b);
        }
        linked
    }

    pub fn merge(mut self, other: Coverage) -> Coverage {
        for model in 0..self.n_models {
            self.n_measurements[model] += other.n_measurements[model];
            self.n_samples[model] += other.n_samples[model];
            self.informative[model] |= other.informative[model];
        }
        let mut theirs = other.components;
        for node in 0..theirs.parent.len() as u32 {
            let root = theirs.find(node);
            if root != node {
                self.components.union(node, root);
            }
        }
        self.out_of_range = self.out_of_range.or(other.out_of_range);
        self
    }

    /// An error naming the first model index out of range.
    pub fn check(&self) -> Result<()> {
        match self.out_of_range {
            Some(model) => Err(Error::invalid(
                "models",
                None,
                format!(
                    "model index {model} out of range for {} models",
                    self.n_models
                ),
            )),
            None => Ok(()),
        }
    }

    /// Groups the informative models by component, in index order of their smallest
    /// member; the largest is ranked (ties go to the smallest model index).
    pub fn split(&mut self) -> Components {
        let n_models = self.n_models;
        let mut group_of_root = vec![u32::MAX; self.components.parent.len()];
        let mut groups: Vec<Vec<u32>> = Vec::new();
        let mut roots: Vec<u32> = Vec::new();
        for model in 0..n_models as u32 {
            if !self.informative[model as usize] {
                continue;
            }
            let root = self.components.find(model);
            if group_of_root[root as usize] == u32::MAX {
                group_of_root[root as usize] = groups.len() as u32;
                groups.push(Vec::new());
                roots.push(root);
            }
            groups[group_of_root[root as usize] as usize].push(model);
        }
        let main = groups
            .iter()
            .enumerate()
            .max_by(|(index_a, a), (index_b, b)| a.len().cmp(&b.len()).then(index_b.cmp(index_a)))
            .map(|(index, _)| index);
        let mut split = Components {
            ranked: vec![false; n_models],
            ranked_models: Vec::new(),
            local: vec![NOT_RANKED; n_models],
            disconnected: Vec::new(),
            main_root: main.map(|index| roots[index]),
        };
        for (index, group) in groups.into_iter().enumerate() {
            if Some(index) == main {
                for (position, &model) in group.iter().enumerate() {
                    split.ranked[model as usize] = true;
                    split.local[model as usize] = position as u32;
                }
                split.ranked_models = group;
            } else {
                split.disconnected.push(group);
            }
        }
        split
    }
}

/// Links informative observations: a list with at least two groups, or a comparison.
struct GraphAccumulator(Coverage);

impl Visitor for GraphAccumulator {
    fn list(&mut self, position: usize, models: &[u32], ends: &[u32], _weight: f64) {
        self.0.list(position, models, ends);
    }

    fn comparison(
        &mut self,
        position: usize,
        model_a: u32,
        model_b: u32,
        _credit: f64,
        _weight: f64,
    ) {
        self.0.comparison(position, model_a, model_b);
    }
}

/// Counts measurements and finds the components of the comparison graph of `selection`.
pub(crate) fn comparison_graph(selection: &Selection) -> Result<Graph> {
    let n_models = selection.data.n_models;
    let GraphAccumulator(mut coverage) = selection.fold(
        || GraphAccumulator(Coverage::new(n_models, n_models)),
        |a, b| GraphAccumulator(a.0.merge(b.0)),
    );
    coverage.check()?;
    let split = coverage.split();
    Ok(Graph {
        ranked: split.ranked,
        ranked_models: split.ranked_models,
        local: split.local,
        disconnected: split.disconnected,
        n_measurements: coverage.n_measurements,
        n_samples: coverage.n_samples,
    })
}
