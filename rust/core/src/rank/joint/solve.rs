//! The Newton step on the skills and hubs from a pass's sums.
//!
//! Full form: the whole (skills + hubs) matrix, factorised by Cholesky: an exact Newton
//! step on the profile posterior, quadratically convergent; used when its O(L²) per
//! sample and O(N³) factorisation are affordable. Arrowhead form: the skill block is
//! replaced by its diagonal and the few hubs (stratum locations, numeric scales, log
//! spreads) are eliminated exactly by a Schur complement, O(n·h²): the hubs are what tie
//! sparse data together, so they must not be left to a Jacobi-like iteration, while the
//! skills of large, well-mixed data are nearly decoupled. When arrowhead steps stop
//! contracting, the Gershgorin size of the dropped couplings is added to the diagonal,
//! which makes the quadratic model an upper bound of the curvature (a safe step).

use nalgebra::{DMatrix, DVector};

use super::sums::{Sums, COUPLING, DIAGONAL, DROPPED, GRADIENT};

/// The curvature of hub `a`: a log spread's exact curvature can be small or negative far
/// from the optimum, where its Fisher information is used instead.
fn hub_curvature(sums: &Sums, a: usize) -> f64 {
    let (exact, fisher) = (sums.hub_diagonal[a], sums.hub_fisher[a]);
    if fisher > 0.0 && exact < 0.5 * fisher {
        fisher
    } else {
        exact
    }
}

/// Re-expresses the log-spread hubs of a pass (accumulated in ρ = log τ²) in τ itself:
/// ∂/∂τ = (2/τ) ∂/∂ρ, curvature (2/τ)² C_ρρ + (2/τ²) ∂A/∂ρ. A spread at a bound that the
/// gradient pushes further out is held there (as is a spread marked held): its row
/// and column are cleared. `spreads`: (hub, τ, held).
pub(crate) fn spread_hubs(sums: &mut Sums, spreads: &[(usize, f64, bool)], low: f64, high: f64) {
    for &(hub, spread, hold) in spreads {
        let factor = 2.0 / spread;
        let gradient = sums.hub_gradient[hub];
        sums.hub_diagonal[hub] =
            factor * factor * sums.hub_diagonal[hub] + 2.0 / (spread * spread) * gradient;
        sums.hub_fisher[hub] *= factor * factor;
        sums.hub_gradient[hub] = factor * gradient;
        let held = hold || (spread <= low && gradient < 0.0) || (spread >= high && gradient > 0.0);
        if held {
            hold_hub(sums, hub);
        } else {
            scale_couplings(sums, hub, factor);
        }
    }
}

/// Holds hub `hub` where it is (an active bound): its gradient, row and column are
/// cleared, so the Newton step leaves it and the other parameters solve without it.
pub(crate) fn hold_hub(sums: &mut Sums, hub: usize) {
    sums.hub_gradient[hub] = 0.0;
    sums.hub_diagonal[hub] = 1.0;
    sums.hub_fisher[hub] = 0.0;
    scale_couplings(sums, hub, 0.0);
}

/// Multiplies hub `hub`'s couplings to the skills, the cells and the other hubs by
/// `factor`.
fn scale_couplings(sums: &mut Sums, hub: usize, factor: f64) {
    let (n, hubs, stride) = (sums.n, sums.hubs, sums.stride);
    sums.hub_factor[hub] *= factor;
    for i in 0..n {
        sums.skills[i * stride + COUPLING + hub] *= factor;
    }
    for other in 0..hubs {
        if other != hub {
            let (row, column) = if hub > other {
                (hub, other)
            } else {
                (other, hub)
            };
            sums.hub_block[row * hubs + column] *= factor;
        }
    }
}

/// A deviation cell's row of the Newton system (see `deviations.rs`).
pub(crate) struct Cell {
    /// Its model's skill index.
    pub model: usize,
    /// Its curvature, the prior's 1/σ² included.
    pub curvature: f64,
    /// The Gershgorin size of its couplings to other skills and cells.
    pub dropped: f64,
    pub gradient: f64,
    /// Its coupling to its model's skill.
    pub cross: f64,
    /// Its couplings to hubs (hub number, value); absent ones are 0.
    pub couplings: [(usize, f64); 4],
}

/// A Newton step: the skills and hubs (in parameter order), and the cells.
pub(crate) struct Step {
    pub parameters: Vec<f64>,
    pub cells: Vec<f64>,
}

impl Step {
    pub(crate) fn split(mut step: Vec<f64>, n: usize, cells: usize) -> Option<Step> {
        if !step.iter().all(|v| v.is_finite()) {
            return None;
        }
        let cell_steps: Vec<f64> = step.drain(n..n + cells).collect();
        Some(Step {
            parameters: step,
            cells: cell_steps,
        })
    }
}

/// The gradient over the skills, the cells and the hubs (the full matrix's order).
pub(crate) fn gradient(sums: &Sums, cells: &[Cell]) -> Vec<f64> {
    let mut gradient: Vec<f64> = (0..sums.n)
        .map(|i| sums.skills[i * sums.stride + GRADIENT])
        .collect();
    gradient.extend(cells.iter().map(|cell| cell.gradient));
    gradient.extend_from_slice(&sums.hub_gradient);
    gradient
}

/// The full curvature matrix over the skills, the cells and the hubs (needs
/// `sums.pairs`).
pub(crate) fn full_matrix(sums: &Sums, cells: &[Cell]) -> DMatrix<f64> {
    let (n, hubs, stride, rows) = (sums.n, sums.hubs, sums.stride, sums.rows);
    debug_assert_eq!(rows, n + cells.len());
    let size = rows + hubs;
    let mut matrix = DMatrix::<f64>::zeros(size, size);
    for i in 0..rows {
        for j in 0..i {
            let value = sums.pairs[i * rows + j];
            matrix[(i, j)] = value;
            matrix[(j, i)] = value;
        }
    }
    for i in 0..n {
        let row = &sums.skills[i * stride..(i + 1) * stride];
        matrix[(i, i)] = row[DIAGONAL];
        for a in 0..hubs {
            let value = row[COUPLING + a];
            matrix[(rows + a, i)] = value;
            matrix[(i, rows + a)] = value;
        }
    }
    for (index, cell) in cells.iter().enumerate() {
        let i = n + index;
        matrix[(i, i)] = cell.curvature;
        matrix[(i, cell.model)] += cell.cross;
        matrix[(cell.model, i)] += cell.cross;
        for &(hub, value) in &cell.couplings {
            matrix[(rows + hub, i)] += value;
            matrix[(i, rows + hub)] += value;
        }
    }
    for a in 0..hubs {
        matrix[(rows + a, rows + a)] = hub_curvature(sums, a);
        for b in 0..a {
            let value = sums.hub_block[a * hubs + b];
            matrix[(rows + a, rows + b)] = value;
            matrix[(rows + b, rows + a)] = value;
        }
    }
    matrix
}

/// Newton step from the full matrix. `shift` is the direction along which the posterior
/// is flat without a skill prior (skills and locations together, as parameter indexes);
/// it is then fixed by a rank-one term.
pub(crate) fn full_step(sums: &Sums, cells: &[Cell], shift: Option<&[usize]>) -> Option<Step> {
    let mut matrix = full_matrix(sums, cells);
    let size = matrix.nrows();
    if let Some(locations) = shift {
        let scale = matrix.diagonal().mean().abs().max(1e-12);
        let mut direction = DVector::<f64>::zeros(size);
        for i in 0..sums.n {
            direction[i] = 1.0;
        }
        for &index in locations {
            direction[index + cells.len()] = 1.0;
        }
        matrix += scale * &direction * direction.transpose() / size as f64;
    }
    let step = matrix
        .cholesky()?
        .solve(&DVector::from_vec(gradient(sums, cells)));
    Step::split(step.iter().copied().collect(), sums.n, cells.len())
}

/// Newton step from the arrowhead form; `majorise` adds the dropped couplings' bound.
/// Each cell is first eliminated into its model's skill and its hubs (a Schur
/// complement of its own), and stepped by back-substitution after.
pub(crate) fn arrowhead_step(sums: &Sums, cells: &[Cell], majorise: bool) -> Option<Step> {
    let (n, hubs, stride) = (sums.n, sums.hubs, sums.stride);
    let mut skills = sums.skills.clone();
    let mut block = DMatrix::<f64>::zeros(hubs, hubs);
    let mut right = DVector::<f64>::from_column_slice(&sums.hub_gradient);
    for a in 0..hubs {
        block[(a, a)] = hub_curvature(sums, a);
        for b in 0..a {
            let value = sums.hub_block[a * hubs + b];
            block[(a, b)] = value;
            block[(b, a)] = value;
        }
    }
    let cell_curvature: Vec<f64> = cells
        .iter()
        .map(|cell| cell.curvature + if majorise { cell.dropped } else { 0.0 })
        .collect();
    for (cell, &curvature) in cells.iter().zip(&cell_curvature) {
        let inverse = 1.0 / curvature;
        let row = &mut skills[cell.model * stride..(cell.model + 1) * stride];
        row[GRADIENT] -= cell.cross * cell.gradient * inverse;
        row[DIAGONAL] -= cell.cross * cell.cross * inverse;
        for (p, &(a, value)) in cell.couplings.iter().enumerate() {
            if value == 0.0 {
                continue;
            }
            row[COUPLING + a] -= cell.cross * value * inverse;
            right[a] -= value * cell.gradient * inverse;
            for &(b, other) in &cell.couplings[..=p] {
                let product = value * other * inverse;
                block[(a, b)] -= product;
                if a != b {
                    block[(b, a)] -= product;
                }
            }
        }
    }
    let diagonal: Vec<f64> = (0..n)
        .map(|i| {
            let row = &skills[i * stride..(i + 1) * stride];
            let d = row[DIAGONAL] + if majorise { row[DROPPED] } else { 0.0 };
            d.max(1e-12)
        })
        .collect();
    // Schur complement onto the hubs: B − Cᵀ D⁻¹ C and g_h − Cᵀ D⁻¹ g_θ.
    for (row, d) in skills.chunks_exact(stride).zip(&diagonal) {
        let coupling = &row[COUPLING..];
        let inverse = 1.0 / d;
        let scaled_gradient = row[GRADIENT] * inverse;
        for a in 0..hubs {
            if coupling[a] == 0.0 {
                continue;
            }
            right[a] -= coupling[a] * scaled_gradient;
            for b in 0..=a {
                let value = coupling[a] * coupling[b] * inverse;
                block[(a, b)] -= value;
                if a != b {
                    block[(b, a)] -= value;
                }
            }
        }
    }
    let hub_step = if hubs == 0 {
        DVector::<f64>::zeros(0)
    } else {
        let scale = (0..hubs).map(|a| block[(a, a)].abs()).fold(0.0, f64::max);
        let mut ridge = 0.0;
        loop {
            let mut regularised = block.clone();
            for a in 0..hubs {
                regularised[(a, a)] += ridge;
            }
            if let Some(cholesky) = regularised.cholesky() {
                break cholesky.solve(&right);
            }
            ridge = if ridge == 0.0 {
                1e-10 * scale.max(1e-12)
            } else {
                ridge * 100.0
            };
            if ridge > scale.max(1.0) * 1e6 {
                return None;
            }
        }
    };
    let mut step = vec![0.0; n + hubs];
    for ((row, d), step) in skills.chunks_exact(stride).zip(&diagonal).zip(&mut step) {
        let coupled: f64 = row[COUPLING..]
            .iter()
            .zip(hub_step.iter())
            .map(|(c, s)| c * s)
            .sum();
        *step = (row[GRADIENT] - coupled) / d;
    }
    for a in 0..hubs {
        step[n + a] = hub_step[a];
    }
    let cell_steps = cells
        .iter()
        .zip(&cell_curvature)
        .map(|(cell, curvature)| {
            let coupled: f64 = cell
                .couplings
                .iter()
                .map(|&(hub, value)| value * step[n + hub])
                .sum();
            (cell.gradient - cell.cross * step[cell.model] - coupled) / curvature
        })
        .collect();
    let step = Step {
        parameters: step,
        cells: cell_steps,
    };
    (step
        .parameters
        .iter()
        .chain(&step.cells)
        .all(|v| v.is_finite()))
    .then_some(step)
}
