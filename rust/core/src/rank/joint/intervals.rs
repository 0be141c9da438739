//! Fisher intervals of the joint model: standard errors of the centred scores from the
//! observed information of the profile posterior (difficulties and hubs profiled out).
//!
//! With deviation cells a score θ + Σ w u is linear in the skills and cells, so their
//! information is built whole and its inverse is their covariance, taken stratum by
//! stratum (`blocks.rs`: the cells of different strata share no sample), not by a dense
//! O(N³) inverse; beyond [`FISHER_ROWS`] skills and cells the pass that builds it would
//! hold too many pairs, and a bootstrap stands in or the intervals are unknown
//! (`standing.rs`). Eliminating each cell into its skill alone, as the arrowhead step
//! does, is no way round: with the skill pairs kept and the cells' pairs dropped the
//! information is not positive definite once the deviations are large (σ² = 0.3 on the
//! objective test's data).

use nalgebra::DMatrix;

use super::super::lists::Selection;
use super::super::point::NOT_POSITIVE_DEFINITE;
use super::super::uncertainty::Uncertainty;
use super::layout::Layout;
use super::pass::{self, PassInput};
use super::solve;
use super::state::State;
use super::sums::Sums;
use super::{binary, blocks, centre, deviations, prior};

/// Most skills plus cells Fisher intervals are computed for: their pass holds pairs of
/// that side per accumulator (4096² values, 128 MiB).
const FISHER_ROWS: usize = 4096;

/// The scores' covariance, in ranked-model order, or why there is none: the
/// information is not positive definite, or too large (see the module comment).
pub(crate) fn fisher_uncertainty(
    selection: &Selection,
    layout: &Layout,
    state: &State,
    alpha: f64,
) -> Result<Uncertainty, String> {
    let n = layout.n_ranked();
    let n_cells = layout.deviations.n_cells();
    if n_cells > 0 && n + n_cells > FISHER_ROWS {
        return Err(format!(
            "{} skills and deviation cells are more than the {FISHER_ROWS} whose information \
             is inverted",
            n + n_cells
        ));
    }
    fisher_covariance(selection, layout, state, alpha)
        .map(|covariance| Uncertainty {
            covariance,
            intervals: None,
        })
        .ok_or_else(|| NOT_POSITIVE_DEFINITE.to_string())
}

/// The scores' covariance; `None` when the information is not positive definite.
fn fisher_covariance(
    selection: &Selection,
    layout: &Layout,
    state: &State,
    alpha: f64,
) -> Option<DMatrix<f64>> {
    let (sums, cells) = full_system(selection, layout, state, alpha);
    if cells.is_empty() {
        dense_covariance(&sums, &cells, layout, alpha == 0.0)
    } else {
        blocks::blocked_covariance(&sums, &cells, &layout.deviations.share, alpha == 0.0)
    }
}

/// A full pass's sums at `state` (the skills' and cells' pairs included, the prior's terms
/// completed) and the cells' rows: the whole Newton system.
pub(crate) fn full_system(
    selection: &Selection,
    layout: &Layout,
    state: &State,
    alpha: f64,
) -> (Sums, Vec<solve::Cell>) {
    let mut items = state.items.clone();
    let variance = state.spread_variance(layout);
    let centre = centre::Centre::all(layout);
    let effective = state.effective_skills(layout);
    let input = PassInput {
        selection: *selection,
        layout,
        parameters: &state.parameters,
        spread_variance: &variance,
        tie: state.tie,
        steps: 1,
        small: binary::SMALL,
        full: true,
        dropped: false,
        centre: &centre,
        objective: false,
        effective: &effective,
    };
    let mut sums = pass::run(&input, &mut items);
    prior::complete_sums(layout, &centre, &state.parameters, alpha, &[], &mut sums);
    let cells = deviations::system(
        layout,
        &state.deviations,
        &state.deviation_variance,
        &mut sums,
    );
    (sums, cells)
}

/// The scores' covariance by the dense inverse of the whole information (skills and
/// cells, hubs profiled out).
pub(crate) fn dense_covariance(
    sums: &Sums,
    cells: &[solve::Cell],
    layout: &Layout,
    scale_free: bool,
) -> Option<DMatrix<f64>> {
    let information = profile_hubs(solve::full_matrix(sums, cells), sums.rows)?;
    whole_covariance(information, layout, scale_free)
}

/// The information of the first `rows` parameters with the rest (the hubs) profiled out:
/// A − B D⁻¹ Bᵀ.
fn profile_hubs(matrix: DMatrix<f64>, rows: usize) -> Option<DMatrix<f64>> {
    let size = matrix.nrows();
    let mut information = matrix.view((0, 0), (rows, rows)).into_owned();
    if size > rows {
        let coupling = matrix.view((0, rows), (rows, size - rows)).into_owned();
        let hubs = matrix
            .view((rows, rows), (size - rows, size - rows))
            .into_owned();
        let solved = hubs.cholesky()?.solve(&coupling.transpose());
        information -= coupling * solved;
    }
    Some(information)
}

/// Without a skill prior the skills' common shift is free: a rank-one term over the
/// first `n` rows fixes it, and the centring removes it again.
fn fix_common_shift(information: &mut DMatrix<f64>, n: usize) {
    if n == 0 {
        return;
    }
    let mean_diagonal = (0..n).map(|i| information[(i, i)]).sum::<f64>() / n as f64;
    let term = mean_diagonal.abs().max(1e-12) / n as f64;
    information.view_mut((0, 0), (n, n)).add_scalar_mut(term);
}

/// The scores' covariance J Σ Jᵀ from the skills' and cells' information, J = [I | W]
/// with W the strata's shares.
fn whole_covariance(
    mut information: DMatrix<f64>,
    layout: &Layout,
    scale_free: bool,
) -> Option<DMatrix<f64>> {
    let n = layout.n_ranked();
    let rows = information.nrows();
    if scale_free {
        fix_common_shift(&mut information, n);
    }
    let covariance = information.cholesky()?.inverse();
    let mut map = DMatrix::<f64>::zeros(n, rows);
    for model in 0..n {
        map[(model, model)] = 1.0;
    }
    for (stratum, &share) in layout.deviations.share.iter().enumerate() {
        for model in 0..n {
            map[(model, n + stratum * n + model)] = share;
        }
    }
    Some(&map * covariance * map.transpose())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;
    use crate::rank::joint::deviations::VARIANCE_MIN;
    use crate::rank::joint::fit::{self, Settings, Start};
    use crate::rank::joint::layout::layout;
    use crate::rank::joint::objective_tests::mixed;

    /// Mean Fisher error of the scores with σ² held at `variance` (the rest refitted).
    fn mean_error(selection: Selection, layout: &Layout, variance: f64) -> f64 {
        let settings = Settings {
            alpha: 0.5,
            tolerance: 1e-10,
            max_iterations: 10_000,
        };
        let mut state = State::start(layout, selection.len(), None);
        state.deviation_variance.fill(variance);
        let state = fit::fit(selection, layout, &settings, state, Start::Warm).state;
        let covariance =
            fisher_covariance(&selection, layout, &state, 0.5).expect("positive definite");
        let errors = crate::rank::fisher::centred_errors_of_covariance(&covariance);
        assert!(
            errors.iter().all(|e| e.is_finite() && *e > 0.0),
            "{errors:?}"
        );
        errors.iter().sum::<f64>() / errors.len() as f64
    }

    /// The deviations' uncertainty reaches the scores' intervals: wider with σ² = 0.3
    /// than with the deviations held at 0.
    #[test]
    fn deviations_widen_the_fisher_intervals() {
        let data = mixed();
        let selection = Selection::new(&data, None);
        let layout = layout(&selection, crate::rank::JointForm::FULL).expect("a valid layout");
        assert_eq!(layout.deviations.n_strata(), 4);
        let without = mean_error(selection, &layout, VARIANCE_MIN);
        let with = mean_error(selection, &layout, 0.3);
        assert!(with > 1.02 * without, "with {with}, without {without}");
    }
}
