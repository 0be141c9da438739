//! Numeric samples: a per-sample offset model on the logit scale of the skills.
//!
//! A score v (oriented so that higher is better and centred on its benchmark's mean) is
//! read as z = φ_k v = θ_m − b_j + ε with ε ~ N(0, κ²), κ² = π²/3 the variance of the
//! standard logistic: a numeric score is the latent utility that a binary outcome
//! thresholds (Thurstone 1927; the logistic scale as in Rasch's model), seen directly.
//! φ_k is one scale per benchmark's numeric samples, fitted with the skills: it converts
//! the benchmark's units to logits, so numeric and binary evidence share one skill scale,
//! and the tie between noise and scale makes φ identifiable from numeric data alone. The
//! likelihood, −(φv − θ + b)²/(2κ²) + log φ, is jointly concave in (θ, b, φ).
//!
//! Given the skills, the difficulty's posterior is Gaussian, so its step is exact.

use super::binary::Stepped;
use super::pass::Entry;
use super::KAPPA2;

/// The exact difficulty update of one numeric sample; fills `entries` with residuals
/// (z − η)/κ² at the new difficulty and the oriented, centred values.
#[allow(clippy::too_many_arguments)]
pub(crate) fn difficulty_update(
    models: &[u32],
    values: &[f32],
    local: &[u32],
    skills: &[f64],
    sign: f64,
    centre: f64,
    scale: f64,
    location: f64,
    prior_precision: f64,
    difficulty: f64,
    entries: &mut Vec<Entry>,
) -> Stepped {
    entries.clear();
    let mut residuals = 0.0;
    for (&model, &value) in models.iter().zip(values) {
        let index = local[model as usize];
        let oriented = sign * f64::from(value) - centre;
        let residual = (scale * oriented - skills[index as usize] + difficulty) / KAPPA2;
        residuals += residual;
        entries.push(Entry {
            local: index,
            residual,
            curvature: 1.0 / KAPPA2,
            value: oriented,
        });
    }
    let precision = models.len() as f64 / KAPPA2;
    let gradient = -residuals - (difficulty - location) * prior_precision;
    let step = gradient / (precision + prior_precision);
    // Σ −(z − η)²/(2κ²) + log φ, dropping the constant −½ log(2πκ²): cheap, so always.
    let mut log_likelihood = models.len() as f64 * scale.ln();
    for entry in entries.iter_mut() {
        entry.residual += entry.curvature * step;
        log_likelihood -= 0.5 * KAPPA2 * entry.residual * entry.residual;
    }
    Stepped {
        difficulty: difficulty + step,
        step,
        precision,
        log_likelihood,
    }
}
