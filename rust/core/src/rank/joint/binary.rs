//! Binary samples: the Rasch model (Rasch 1960, "Probabilistic models for some
//! intelligence and attainment tests"), P(model m is right on sample j) = σ(θ_m − b_j),
//! with the difficulty b_j drawn around its stratum's location (see `prior.rs`).
//!
//! Per pass the difficulty takes Newton steps on its own posterior at the current skills
//! (a one-dimensional concave problem, so a step or two from the last value suffices),
//! and the sample hands the skills its residuals y − p linearised at the new difficulty,
//! with curvatures p(1 − p). Outcomes may be fractions (repeated measurements of a cell
//! are averaged when the dataset is built); the likelihood is then the cross-entropy.

use super::pass::Entry;

/// Largest difficulty step (logits) in one Newton step; keeps the first passes from
/// overshooting on samples every model passed or failed.
const STEP: f64 = 4.0;

/// A difficulty step below this ends a sample's Newton steps within a pass, in the first
/// passes of a fit (`fit::FULL_STEPS_AFTER`).
pub(crate) const SMALL: f64 = 0.05;

#[inline]
pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A sample's difficulty after its steps.
pub(crate) struct Stepped {
    pub difficulty: f64,
    /// The last step.
    pub step: f64,
    /// The data's precision W = Σ p(1 − p).
    pub precision: f64,
    /// The log-likelihood of the sample's outcomes at the new difficulty (to second
    /// order from the last evaluated one), when asked for; else 0.
    pub log_likelihood: f64,
}

/// Up to `steps` Newton steps on the difficulty `b` of one binary sample given the
/// skills; fills `entries` with residuals and curvatures at the difficulty before the
/// last step (then linearised to after it). The log-likelihood costs a log per
/// measurement, so it is computed only when `objective`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn difficulty_steps(
    models: &[u32],
    values: &[f32],
    local: &[u32],
    skills: &[f64],
    location: f64,
    prior_precision: f64,
    mut difficulty: f64,
    steps: usize,
    small: f64,
    objective: bool,
    entries: &mut Vec<Entry>,
) -> Stepped {
    let mut last_step = 0.0;
    let (mut precision, mut residuals) = (0.0, 0.0);
    for _ in 0..steps.max(1) {
        entries.clear();
        residuals = 0.0;
        let mut curvatures = 0.0;
        for (&model, &value) in models.iter().zip(values) {
            let index = local[model as usize];
            let p = sigmoid(skills[index as usize] - difficulty);
            let residual = f64::from(value) - p;
            let curvature = p * (1.0 - p);
            residuals += residual;
            curvatures += curvature;
            entries.push(Entry {
                local: index,
                residual,
                curvature,
                // d curvature / dθ, for the Laplace correction (see `pass.rs`).
                value: curvature * (1.0 - 2.0 * p),
            });
        }
        // The log posterior in b has gradient −Σ(y − p) − (b − μ)/τ² and curvature
        // Σ p(1 − p) + 1/τ².
        let gradient = -residuals - (difficulty - location) * prior_precision;
        last_step = (gradient / (curvatures + prior_precision)).clamp(-STEP, STEP);
        difficulty += last_step;
        precision = curvatures;
        if last_step.abs() < small {
            // The residuals below are then exact to O(step²), and the next pass's step
            // starts from here: another evaluation would not pay for its exps.
            break;
        }
    }
    // y log p + (1 − y) log(1 − p) at the last evaluated difficulty (p = y − residual),
    // then carried to the new one by its gradient −Σ(y − p) and curvature W.
    let log_likelihood = if objective {
        let at_last: f64 = entries
            .iter()
            .zip(values)
            .map(|(entry, &value)| {
                let y = f64::from(value);
                let p = y - entry.residual;
                let mut term = 0.0;
                if y > 0.0 {
                    term += y * p.max(f64::MIN_POSITIVE).ln();
                }
                if y < 1.0 {
                    term += (1.0 - y) * (1.0 - p).max(f64::MIN_POSITIVE).ln();
                }
                term
            })
            .sum();
        at_last - residuals * last_step - 0.5 * precision * last_step * last_step
    } else {
        0.0
    };
    for entry in entries.iter_mut() {
        // y − σ(θ − b) at b + Δb, to first order.
        entry.residual += entry.curvature * last_step;
    }
    Stepped {
        difficulty,
        step: last_step,
        precision,
        log_likelihood,
    }
}
