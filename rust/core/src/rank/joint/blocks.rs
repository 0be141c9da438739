//! The exact Newton step of the full matrix when it holds deviation cells, solved by
//! eliminating the cells one stratum at a time.
//!
//! Cells of different strata never share a sample, so the cells' block of the matrix is
//! block-diagonal by stratum; each stratum's block couples to the skills and hubs only.
//! Eliminating the blocks (a Schur complement each, Golub & Van Loan 2013, §4.2 on
//! block elimination) leaves a system over the skills and hubs alone, and the step is
//! the same as the dense factorisation's: O(S·n²·(n + m)) for S strata of n cells and m
//! skills plus hubs, against O((S·n + m)³). Without it a pool of a few hundred models in
//! a few dozen strata had only the arrowhead step, which drops the skills' couplings:
//! on pooled sources that share few models it crawled along the directions only those
//! few models pin down (784 passes where this step takes 15).

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use super::solve::{full_matrix, gradient, Cell, Step};
use super::sums::Sums;

/// The skills' and hubs' rows of the full matrix (laid out skills, cells, hubs), and
/// their block: what is left once the cells are eliminated.
fn skills_and_hubs(
    matrix: &DMatrix<f64>,
    n: usize,
    n_cells: usize,
    hubs: usize,
) -> (Vec<usize>, DMatrix<f64>) {
    let rows = n + n_cells;
    let outer: Vec<usize> = (0..n).chain(rows..rows + hubs).collect();
    let block = DMatrix::from_fn(outer.len(), outer.len(), |i, j| {
        matrix[(outer[i], outer[j])]
    });
    (outer, block)
}

/// One stratum's cells eliminated from the full matrix: the rows that couple to
/// anything (`active`), the rows with only their prior (`alone`: a model not measured in
/// the stratum; most cells of a pooled pool are such, and leaving them out of the block
/// is what keeps this cheap), the block's Cholesky factor and X = K⁻¹ Mᵀ for M the
/// block's coupling to the skills and hubs (`outer`).
struct Stratum {
    active: Vec<usize>,
    alone: Vec<usize>,
    cholesky: Cholesky<f64, Dyn>,
    solved: DMatrix<f64>,
}

/// Eliminates the cells in rows `start..start + per`; also returns M X, the term the
/// elimination takes off the skills' and hubs' matrix. `None` if the block is not
/// positive definite.
fn eliminate(
    matrix: &DMatrix<f64>,
    outer: &[usize],
    start: usize,
    per: usize,
) -> Option<(Stratum, DMatrix<f64>)> {
    let size = matrix.nrows();
    let (active, alone): (Vec<usize>, Vec<usize>) = (start..start + per)
        .partition(|&row| (0..size).any(|column| column != row && matrix[(row, column)] != 0.0));
    let k = active.len();
    let block = DMatrix::from_fn(k, k, |i, j| matrix[(active[i], active[j])]);
    let coupling = DMatrix::from_fn(outer.len(), k, |i, j| matrix[(outer[i], active[j])]);
    let cholesky = block.cholesky()?;
    let solved = cholesky.solve(&coupling.transpose());
    let term = &coupling * &solved;
    Some((
        Stratum {
            active,
            alone,
            cholesky,
            solved,
        },
        term,
    ))
}

/// The full Newton step with the cells of each of `strata` consecutive, equal groups
/// eliminated first. `shift` as for `solve::full_step` (it touches no cell).
pub(crate) fn blocked_step(
    sums: &Sums,
    cells: &[Cell],
    strata: usize,
    shift: Option<&[usize]>,
) -> Option<Step> {
    let (n, hubs) = (sums.n, sums.hubs);
    let n_cells = cells.len();
    if strata == 0 || !n_cells.is_multiple_of(strata) {
        return None;
    }
    let per = n_cells / strata;
    let matrix = full_matrix(sums, cells);
    let size = matrix.nrows();
    let gradient = DVector::from_vec(gradient(sums, cells));
    let (outer, mut reduced) = skills_and_hubs(&matrix, n, n_cells, hubs);
    let m = outer.len();
    let mut right = DVector::from_fn(m, |i, _| gradient[outer[i]]);
    if let Some(locations) = shift {
        let scale = matrix.diagonal().mean().abs().max(1e-12) / size as f64;
        let mut direction = DVector::<f64>::zeros(m);
        for i in 0..n {
            direction[i] = 1.0;
        }
        // A location's parameter index is its row among the skills and hubs.
        for &index in locations {
            direction[index] = 1.0;
        }
        reduced += scale * &direction * direction.transpose();
    }
    let mut eliminated = Vec::with_capacity(strata);
    for stratum in 0..strata {
        let (cells, term) = eliminate(&matrix, &outer, n + stratum * per, per)?;
        let own = DVector::from_fn(cells.active.len(), |i, _| gradient[cells.active[i]]);
        // K⁻¹ g: the stratum's cells given no move of the skills and hubs.
        let free = cells.cholesky.solve(&own);
        reduced -= term;
        right -= cells.solved.transpose() * &own;
        eliminated.push((cells, free));
    }
    let outer_step = reduced.cholesky()?.solve(&right);
    let mut step = vec![0.0; size];
    for (i, &index) in outer.iter().enumerate() {
        step[index] = outer_step[i];
    }
    for (cells, free) in &eliminated {
        let cells_step = free - &cells.solved * &outer_step;
        for (&row, &value) in cells.active.iter().zip(cells_step.iter()) {
            step[row] = value;
        }
        for &row in &cells.alone {
            step[row] = gradient[row] / matrix[(row, row)];
        }
    }
    Step::split(step, n, n_cells)
}

/// The leaderboard scores' covariance (θ_m + Σ_s w_s u_sm, `shares` the w_s) from the full
/// matrix with the cells eliminated by stratum, the hubs profiled out by the same
/// elimination: with the skills and hubs as o and the cells as c, the inverse's blocks are
/// S⁻¹, −X S⁻¹ and K⁻¹ + X S⁻¹ Xᵀ (S the reduced matrix, X = K⁻¹ Mᵀ), so the scores'
/// covariance is G S⁻¹ Gᵀ + W K⁻¹ Wᵀ with G = P − W X. `scale_free` fixes the skills'
/// free common shift by a rank-one term, as the dense path does.
pub(crate) fn blocked_covariance(
    sums: &Sums,
    cells: &[Cell],
    shares: &[f64],
    scale_free: bool,
) -> Option<DMatrix<f64>> {
    let (n, hubs) = (sums.n, sums.hubs);
    let strata = shares.len();
    let n_cells = cells.len();
    if strata == 0 || n_cells != strata * n {
        return None;
    }
    let matrix = full_matrix(sums, cells);
    let (outer, mut reduced) = skills_and_hubs(&matrix, n, n_cells, hubs);
    let m = outer.len();
    if scale_free && n > 0 {
        let mean_diagonal = (0..n).map(|i| reduced[(i, i)]).sum::<f64>() / n as f64;
        let term = mean_diagonal.abs().max(1e-12) / n as f64;
        reduced.view_mut((0, 0), (n, n)).add_scalar_mut(term);
    }
    // G = P − W X, built stratum by stratum; W K⁻¹ Wᵀ likewise.
    let mut map = DMatrix::<f64>::zeros(n, m);
    for i in 0..n {
        map[(i, i)] = 1.0;
    }
    let mut covariance = DMatrix::<f64>::zeros(n, n);
    for (stratum, &share) in shares.iter().enumerate() {
        let start = n + stratum * n;
        let (cells, term) = eliminate(&matrix, &outer, start, n)?;
        for &row in &cells.alone {
            let model = row - start;
            covariance[(model, model)] += share * share / matrix[(row, row)];
        }
        reduced -= term;
        let inverse = cells.cholesky.inverse();
        for (i, &row) in cells.active.iter().enumerate() {
            let model = row - start;
            for j in 0..m {
                map[(model, j)] -= share * cells.solved[(i, j)];
            }
            for (l, &other) in cells.active.iter().enumerate() {
                covariance[(model, other - start)] += share * share * inverse[(i, l)];
            }
        }
    }
    let inverse = reduced.cholesky()?.inverse();
    covariance += &map * inverse * map.transpose();
    covariance
        .iter()
        .all(|value| value.is_finite())
        .then_some(covariance)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;
    use crate::rank::joint::layout::layout;
    use crate::rank::joint::objective_tests::mixed;
    use crate::rank::joint::solve;
    use crate::rank::joint::state::State;
    use crate::rank::lists::Selection;
    use crate::rank::JointForm;

    /// The blocked step is the dense factorisation's step, cells and all, with and
    /// without the rank-one term of a prior-free shift.
    #[test]
    fn the_blocked_step_is_the_full_step() {
        let data = mixed();
        let selection = Selection::new(&data, None);
        let layout = layout(&selection, JointForm::FULL).expect("a valid layout");
        let strata = layout.deviations.n_strata();
        assert!(strata >= 2);
        let mut state = State::start(&layout, selection.len(), None);
        state.deviation_variance.fill(0.3);
        for (index, value) in state.deviations.iter_mut().enumerate() {
            *value = 0.1 * ((index % 7) as f64 - 3.0);
        }
        let (sums, cells) =
            crate::rank::joint::intervals::full_system(&selection, &layout, &state, 0.5);
        let locations: Vec<usize> = layout
            .location_parameter
            .iter()
            .filter(|&&index| index != crate::rank::joint::layout::NONE)
            .map(|&index| index as usize)
            .collect();
        for shift in [None, Some(&locations[..])] {
            let dense = solve::full_step(&sums, &cells, shift).expect("positive definite");
            let blocked = blocked_step(&sums, &cells, strata, shift).expect("positive definite");
            for (a, b) in dense
                .parameters
                .iter()
                .chain(&dense.cells)
                .zip(blocked.parameters.iter().chain(&blocked.cells))
            {
                assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{a} vs {b}");
            }
            assert!(dense.cells.iter().any(|v| v.abs() > 1e-6));
        }
        for scale_free in [false, true] {
            let dense =
                crate::rank::joint::intervals::dense_covariance(&sums, &cells, &layout, scale_free)
                    .expect("positive definite");
            let blocked = blocked_covariance(&sums, &cells, &layout.deviations.share, scale_free)
                .expect("positive definite");
            // Without a prior the common shift's term differs; no centred score sees it.
            let centred = |covariance: DMatrix<f64>| {
                let n = covariance.nrows();
                let centring = DMatrix::<f64>::identity(n, n)
                    - DMatrix::<f64>::from_element(n, n, 1.0 / n as f64);
                &centring * covariance * &centring
            };
            let (dense, blocked) = (centred(dense), centred(blocked));
            let largest = dense.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            for (a, b) in dense.iter().zip(blocked.iter()) {
                assert!((a - b).abs() <= 1e-9 * largest, "{scale_free}: {a} vs {b}");
            }
        }
    }
}
