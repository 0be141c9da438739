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

/// Multiplies hub `hub`'s couplings to the skills and the other hubs by `factor`.
fn scale_couplings(sums: &mut Sums, hub: usize, factor: f64) {
    let (n, hubs, stride) = (sums.n, sums.hubs, sums.stride);
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

/// The gradient over all parameters.
pub(crate) fn gradient(sums: &Sums) -> Vec<f64> {
    let mut gradient: Vec<f64> = (0..sums.n)
        .map(|i| sums.skills[i * sums.stride + GRADIENT])
        .collect();
    gradient.extend_from_slice(&sums.hub_gradient);
    gradient
}

/// The full curvature matrix (needs `sums.pairs`).
pub(crate) fn full_matrix(sums: &Sums) -> DMatrix<f64> {
    let (n, hubs, stride) = (sums.n, sums.hubs, sums.stride);
    let size = n + hubs;
    let mut matrix = DMatrix::<f64>::zeros(size, size);
    for i in 0..n {
        let row = &sums.skills[i * stride..(i + 1) * stride];
        matrix[(i, i)] = row[DIAGONAL];
        for j in 0..i {
            let value = sums.pairs[i * n + j];
            matrix[(i, j)] = value;
            matrix[(j, i)] = value;
        }
        for a in 0..hubs {
            let value = row[COUPLING + a];
            matrix[(n + a, i)] = value;
            matrix[(i, n + a)] = value;
        }
    }
    for a in 0..hubs {
        matrix[(n + a, n + a)] = hub_curvature(sums, a);
        for b in 0..a {
            let value = sums.hub_block[a * hubs + b];
            matrix[(n + a, n + b)] = value;
            matrix[(n + b, n + a)] = value;
        }
    }
    matrix
}

/// Newton step from the full matrix. `shift` is the direction along which the posterior
/// is flat without a skill prior (skills and locations together); it is then fixed by a
/// rank-one term.
pub(crate) fn full_step(sums: &Sums, shift: Option<&[usize]>) -> Option<Vec<f64>> {
    let mut matrix = full_matrix(sums);
    let size = matrix.nrows();
    if let Some(locations) = shift {
        let scale = matrix.diagonal().mean().abs().max(1e-12);
        let mut direction = DVector::<f64>::zeros(size);
        for i in 0..sums.n {
            direction[i] = 1.0;
        }
        for &index in locations {
            direction[index] = 1.0;
        }
        matrix += scale * &direction * direction.transpose() / size as f64;
    }
    let step = matrix.cholesky()?.solve(&DVector::from_vec(gradient(sums)));
    step.iter()
        .all(|v| v.is_finite())
        .then(|| step.iter().copied().collect())
}

/// Newton step from the arrowhead form; `majorise` adds the dropped couplings' bound.
pub(crate) fn arrowhead_step(sums: &Sums, majorise: bool) -> Option<Vec<f64>> {
    let (n, hubs, stride) = (sums.n, sums.hubs, sums.stride);
    let diagonal: Vec<f64> = (0..n)
        .map(|i| {
            let row = &sums.skills[i * stride..(i + 1) * stride];
            let d = row[DIAGONAL] + if majorise { row[DROPPED] } else { 0.0 };
            d.max(1e-12)
        })
        .collect();
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
    // Schur complement onto the hubs: B − Cᵀ D⁻¹ C and g_h − Cᵀ D⁻¹ g_θ.
    for (row, d) in sums.skills.chunks_exact(stride).zip(&diagonal) {
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
    for ((row, d), step) in sums
        .skills
        .chunks_exact(stride)
        .zip(&diagonal)
        .zip(&mut step)
    {
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
    step.iter().all(|v| v.is_finite()).then_some(step)
}
