//! The sums of one pass: per skill a row (gradient, diagonal curvature, the size of the
//! skill–skill couplings the arrowhead step drops, one coupling per hub), the hubs' own
//! gradient and curvature, and for the full Newton step the skill–skill pairs.

use super::super::lists::add_into;

/// Per-skill row: gradient, diagonal curvature, the Gershgorin size of the dropped
/// skill–skill couplings, the skill's term of the measurer effect's centre (see
/// `prior::fold_centre`), then one coupling per hub.
pub(crate) const GRADIENT: usize = 0;
pub(crate) const DIAGONAL: usize = 1;
pub(crate) const DROPPED: usize = 2;
pub(crate) const CENTRE: usize = 3;
pub(crate) const COUPLING: usize = 4;

/// Summed curvature (the negated Hessian) and gradient of one pass.
pub(crate) struct Sums {
    pub n: usize,
    pub hubs: usize,
    pub stride: usize,
    /// n rows of `stride` values (see the row constants).
    pub skills: Vec<f64>,
    pub hub_gradient: Vec<f64>,
    pub hub_diagonal: Vec<f64>,
    /// For log spreads: the Fisher information, a safe curvature far from the optimum.
    pub hub_fisher: Vec<f64>,
    /// hubs × hubs, row-major; off-diagonal terms at [larger][smaller].
    pub hub_block: Vec<f64>,
    /// Full step only: over the rows (the n skills, then the cells), row-major, terms
    /// at [larger][smaller].
    pub pairs: Vec<f64>,
    /// The side of `pairs`: n + cells (callers of a full pass keep it small:
    /// `fit::use_full`, `intervals::FISHER_ROWS`).
    pub rows: usize,
    pub tie_gradient: f64,
    pub tie_curvature: f64,
    /// Largest |difficulty step| of the pass.
    pub item_step: f64,
    /// The log marginal posterior at the pass's skills and hubs (Laplace's
    /// approximation over the difficulties, as stepped by the pass; see `pass.rs`).
    pub objective: f64,
    /// The measurer effect's centre (the mean skill moves every sample's z): Σ β g_ℓ,
    /// Σ β² C_ℓℓ and per hub Σ −β C_ℓh over samples with an effect (see
    /// `prior::fold_centre`).
    pub centre_gradient: f64,
    pub centre_curvature: f64,
    pub centre_hubs: Vec<f64>,
    /// Per (model, stratum) deviation cell, a row of `deviations::CELL_STRIDE` values.
    pub cells: Vec<f64>,
    /// Per hub: the factor its couplings to the cells carry (the spreads' change of
    /// variable, 0 for a held hub), applied when the cells' rows are read.
    pub hub_factor: Vec<f64>,
}

impl Sums {
    pub fn new(n: usize, n_parameters: usize, n_cells: usize, full: bool) -> Self {
        let hubs = n_parameters - n;
        let stride = COUPLING + hubs;
        let rows = n + n_cells;
        Sums {
            n,
            hubs,
            stride,
            skills: vec![0.0; n * stride],
            hub_gradient: vec![0.0; hubs],
            hub_diagonal: vec![0.0; hubs],
            hub_fisher: vec![0.0; hubs],
            hub_block: vec![0.0; hubs * hubs],
            pairs: if full {
                vec![0.0; rows * rows]
            } else {
                Vec::new()
            },
            rows,
            tie_gradient: 0.0,
            tie_curvature: 0.0,
            item_step: 0.0,
            objective: 0.0,
            centre_gradient: 0.0,
            centre_curvature: 0.0,
            centre_hubs: vec![0.0; hubs],
            cells: vec![0.0; n_cells * super::deviations::CELL_STRIDE],
            hub_factor: vec![1.0; hubs],
        }
    }

    pub fn merge(mut self, other: Sums) -> Sums {
        add_into(&mut self.skills, &other.skills);
        add_into(&mut self.hub_gradient, &other.hub_gradient);
        add_into(&mut self.hub_diagonal, &other.hub_diagonal);
        add_into(&mut self.hub_fisher, &other.hub_fisher);
        add_into(&mut self.hub_block, &other.hub_block);
        add_into(&mut self.pairs, &other.pairs);
        self.tie_gradient += other.tie_gradient;
        self.tie_curvature += other.tie_curvature;
        self.item_step = self.item_step.max(other.item_step);
        self.objective += other.objective;
        self.centre_gradient += other.centre_gradient;
        self.centre_curvature += other.centre_curvature;
        add_into(&mut self.centre_hubs, &other.centre_hubs);
        add_into(&mut self.cells, &other.cells);
        self
    }

    #[inline]
    pub fn row(&mut self, skill: usize) -> &mut [f64] {
        &mut self.skills[skill * self.stride..(skill + 1) * self.stride]
    }

    /// Adds to the curvature between hubs `a` ≠ `b` (hub numbers, not parameter indexes).
    #[inline]
    pub fn hub_pair(&mut self, a: usize, b: usize, value: f64) {
        let (row, column) = if a > b { (a, b) } else { (b, a) };
        self.hub_block[row * self.hubs + column] += value;
    }

    /// Adds to the curvature between skills `i` ≠ `j`: kept for the full step, counted
    /// as dropped otherwise.
    #[inline]
    pub fn skill_pair(&mut self, i: usize, j: usize, value: f64) {
        if self.pairs.is_empty() {
            self.skills[i * self.stride + DROPPED] += value.abs();
            self.skills[j * self.stride + DROPPED] += value.abs();
        } else {
            self.pair(i, j, value);
        }
    }

    /// Adds to the full step's curvature between rows `i` ≠ `j` (a skill's index, or n
    /// plus a cell's).
    #[inline]
    pub fn pair(&mut self, i: usize, j: usize, value: f64) {
        let (row, column) = if i > j { (i, j) } else { (j, i) };
        self.pairs[row * self.rows + column] += value;
    }
}
