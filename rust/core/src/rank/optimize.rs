//! The two optimisers tried for the likelihood fits, generic over the model.
//!
//! * [`squarem`]: the MM map of Hunter (2004) accelerated by SQUAREM, scheme S3
//!   (Varadhan & Roland 2008, "Simple and globally convergent methods for accelerating the
//!   convergence of any EM algorithm", Scand. J. Statist. 35). The extrapolation runs on
//!   log-strengths, where every point is valid, so no projection is needed. Without an
//!   objective (its logs cost more than the MM map itself), an extrapolated point is
//!   accepted when its fixed-point residual is no larger than at the start of the cycle;
//!   otherwise the cycle falls back to the two plain MM steps it already computed.
//! * [`lbfgs`]: limited-memory BFGS (Nocedal 1980; two-loop recursion, Nocedal & Wright
//!   2006, Alg. 7.4) on log-strengths with Armijo backtracking.
//!
//! Both stop on the same scale-free criterion: the largest MM step at the current point,
//! max_i |log(w_i / (θ_i D_i))| (the log of the ratio of wins to expected wins), is below
//! the tolerance. At equal tolerance they therefore reach equal accuracy.
//! `iterations` counts passes over the data, the unit of cost.

/// A model fitted on log-strengths `x`.
pub(crate) trait Objective {
    /// The MM map at `x`: the next point and the residual (largest MM step) at `x`.
    fn mm_step(&self, x: &[f64]) -> (Vec<f64>, f64);
    /// The negative log posterior at `x`, its gradient, and the residual at `x`.
    fn evaluate(&self, x: &[f64]) -> (f64, Vec<f64>, f64);
    /// Puts `x` into canonical form (bounded; centred when the scale is free).
    fn normalise(&self, x: &mut [f64]);
}

/// A fitted point.
#[derive(Debug, Clone)]
pub(crate) struct Fitted {
    pub x: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// MM with SQUAREM (S3) acceleration from `start`.
pub(crate) fn squarem<O: Objective>(
    objective: &O,
    start: Vec<f64>,
    tolerance: f64,
    max_iterations: usize,
) -> Fitted {
    let mut x0 = start;
    objective.normalise(&mut x0);
    let mut iterations = 0;
    // The largest allowed step length grows while extrapolations succeed (the adaptive
    // `mstep` rule of the SQUAREM package).
    let mut step_max = 1.0f64;
    let done = |x: Vec<f64>, iterations: usize, converged: bool| Fitted {
        x,
        iterations,
        converged,
    };
    loop {
        if iterations >= max_iterations {
            return done(x0, iterations, false);
        }
        let (x1, residual0) = objective.mm_step(&x0);
        iterations += 1;
        if residual0 < tolerance {
            return done(x1, iterations, true);
        }
        if iterations >= max_iterations || !residual0.is_finite() {
            return done(x1, iterations, false);
        }
        let (x2, residual1) = objective.mm_step(&x1);
        iterations += 1;
        if residual1 < tolerance {
            return done(x2, iterations, true);
        }
        let r: Vec<f64> = x1.iter().zip(&x0).map(|(a, b)| a - b).collect();
        let v: Vec<f64> = x2
            .iter()
            .zip(&x1)
            .zip(&r)
            .map(|((b, a), r)| b - a - r)
            .collect();
        let (rr, vv) = (dot(&r, &r), dot(&v, &v));
        let mut step = if vv > 0.0 { -(rr / vv).sqrt() } else { -1.0 };
        step = step.clamp(-step_max, -1.0);
        if iterations >= max_iterations {
            return done(x2, iterations, false);
        }
        // With step = -1 the extrapolated point is x2 itself, so the stabilising step is a
        // plain MM step and nothing is wasted.
        let mut extrapolated: Vec<f64> = x0
            .iter()
            .zip(&r)
            .zip(&v)
            .map(|((x, r), v)| x - 2.0 * step * r + step * step * v)
            .collect();
        objective.normalise(&mut extrapolated);
        let (stabilised, residual) = objective.mm_step(&extrapolated);
        iterations += 1;
        if residual.is_finite() && residual <= residual0 {
            if residual < tolerance {
                return done(stabilised, iterations, true);
            }
            if step == -step_max {
                step_max *= 4.0;
            }
            x0 = stabilised;
        } else {
            step_max = (step_max / 4.0).max(1.0);
            x0 = x2;
        }
    }
}

/// L-BFGS with `memory` correction pairs from `start`.
pub(crate) fn lbfgs<O: Objective>(
    objective: &O,
    start: Vec<f64>,
    tolerance: f64,
    max_iterations: usize,
) -> Fitted {
    const MEMORY: usize = 8;
    let mut x = start;
    objective.normalise(&mut x);
    let (mut value, mut gradient, mut residual) = objective.evaluate(&x);
    let mut iterations = 1;
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    while residual >= tolerance && residual.is_finite() && iterations < max_iterations {
        // Two-loop recursion for the quasi-Newton direction.
        let mut direction: Vec<f64> = gradient.iter().map(|g| -g).collect();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &direction);
            for (d, y) in direction.iter_mut().zip(y) {
                *d -= a * y;
            }
            alphas.push(a);
        }
        match history.back() {
            Some((s, y, _)) => {
                let gamma = dot(s, y) / dot(y, y);
                direction.iter_mut().for_each(|d| *d *= gamma);
            }
            None => {
                // First step: move the largest coordinate by at most 1 (log scale).
                let largest = direction
                    .iter()
                    .fold(0.0f64, |m, d| m.max(d.abs()))
                    .max(1e-300);
                let scale = 1.0f64.min(1.0 / largest);
                direction.iter_mut().for_each(|d| *d *= scale);
            }
        }
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &direction);
            for (d, s) in direction.iter_mut().zip(s) {
                *d += (a - b) * s;
            }
        }
        let mut slope = dot(&gradient, &direction);
        if slope >= 0.0 {
            history.clear();
            direction = gradient.iter().map(|g| -g).collect();
            slope = dot(&gradient, &direction);
        }
        // Armijo backtracking; near the optimum the objective's rounding error exceeds
        // the decrease, so a step that does not increase it beyond rounding is accepted.
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let mut candidate: Vec<f64> = x
                .iter()
                .zip(&direction)
                .map(|(x, d)| x + step * d)
                .collect();
            objective.normalise(&mut candidate);
            let evaluation = objective.evaluate(&candidate);
            iterations += 1;
            let rounding = 1e-13 * value.abs().max(1.0);
            if evaluation.0 <= value + 1e-4 * step * slope
                || (evaluation.0 - value).abs() <= rounding
            {
                accepted = Some((candidate, evaluation));
                break;
            }
            step *= 0.5;
            if iterations >= max_iterations {
                break;
            }
        }
        let Some((next, (next_value, next_gradient, next_residual))) = accepted else {
            break;
        };
        let s: Vec<f64> = next.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = next_gradient
            .iter()
            .zip(&gradient)
            .map(|(a, b)| a - b)
            .collect();
        let sy = dot(&s, &y);
        if sy > 1e-16 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() && sy > 0.0 {
            if history.len() == MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        x = next;
        value = next_value;
        gradient = next_gradient;
        residual = next_residual;
    }
    Fitted {
        x,
        iterations,
        converged: residual < tolerance,
    }
}

/// Moves the log-strengths `x` (the entries where `include` is true) by the common shift
/// that maximises the prior, in place.
///
/// The data likelihood depends on differences of log-strengths only, so the overall
/// level is set by the prior alone: Σ_i [α(β_i + c) − 2α log(1 + e^{β_i + c})], maximal
/// where Σ_i σ(β_i + c) = n/2. Left to MM or L-BFGS that one direction converges at a rate
/// of about 1 − (prior curvature / data curvature), thousands of passes on large data;
/// solving it exactly after every step (an exact block update, so MM stays monotone)
/// removes it. Newton's method on a monotone, convex-concave 1-D equation, with bounded
/// steps.
pub(crate) fn best_prior_shift(x: &mut [f64], include: impl Fn(usize) -> bool) {
    let indexes: Vec<usize> = (0..x.len()).filter(|&i| include(i)).collect();
    if indexes.is_empty() {
        return;
    }
    let half = indexes.len() as f64 / 2.0;
    let mut shift = 0.0f64;
    for _ in 0..60 {
        let (mut excess, mut slope) = (-half, 0.0);
        for &i in &indexes {
            let p = 1.0 / (1.0 + (-(x[i] + shift)).exp());
            excess += p;
            slope += p * (1.0 - p);
        }
        let step = if slope > 0.0 {
            (-excess / slope).clamp(-5.0, 5.0)
        } else {
            0.0
        };
        shift += step;
        if step.abs() < 1e-14 * (1.0 + shift.abs()) {
            break;
        }
    }
    for &i in &indexes {
        x[i] += shift;
    }
}
