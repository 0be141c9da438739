//! SQUAREM over the whole state of the joint fit: skills, hubs, difficulties,
//! deviations and their variances.
//!
//! A pass and its Newton step converge fast where the posterior is well curved, but
//! along a nearly flat direction the steps the curvature's approximations allow are a
//! small fraction of the way, and the iterations creep at a linear rate close to 1: a
//! benchmark that models nearly all fail moves its location, its spread and its
//! difficulties together by a thousandth of the distance per pass. Such a sequence is what
//! squared extrapolation was made for (Varadhan & Roland 2008, "Simple and globally
//! convergent methods for accelerating the convergence of any EM algorithm", scheme S3,
//! the same rule as `optimize::squarem`): from three iterates x0, x1, x2 it jumps to
//! x0 − 2s r + s² v (r = x1 − x0, v = x2 − 2x1 + x0, s = −‖r‖/‖v‖), then takes one
//! iteration from there. Where the iterations already converge fast, ‖v‖ ≈ ‖r‖ and the
//! jump is x2 itself, so nothing is lost; where they overshoot and alternate, the jump is
//! shorter than x2 (see [`SHORTEST`]).
//!
//! Which jumps to keep: at first, those after which the iteration moves no more than the
//! first of the three did. That rule refuses the jumps a plateau needs: where a
//! near-separable benchmark's location and spread leave a flat stretch of the
//! posterior, the passes' steps grow as they go (each a hair longer than the last), and
//! so does the pass after every jump, however far ahead the jump went; one such fit crept
//! for 4,500 passes. After the first refusal, a jump is kept when the log marginal
//! posterior at the jumped point (`Sums::objective`, computed by the pass that reads it)
//! is no lower than at x1, the safeguard of Varadhan & Roland's globally convergent
//! scheme. Either way a refused jump goes on from x2, and the fit's fixed point is the
//! same: the rule only chooses the path.

use super::deviations::{VARIANCE_MAX, VARIANCE_MIN};
use super::fit::{Fitted, Fitter};
use super::state::State;

/// Plain iterations before the first extrapolation: a cold start's first passes place
/// the difficulties and hold the spreads.
const WARM: usize = 3;

/// The shortest jump, |s| (the SQUAREM package's `step.min0`, which is 1 for EM maps,
/// whose modes converge monotonically). A pass and its Newton step can overshoot instead:
/// in one fit of 100 models × 5,000 samples at 95% missing, the skills of two models that
/// failed nearly every sample (near −8.4) alternated sides of their optimum, the change
/// shrinking by 8% a pass (a mode with eigenvalue λ ≈ −0.92). The S3 length that cancels
/// such a mode is 1/(1 − λ), between 1/2 and 1; bounded at 1, every jump was x2 itself
/// and that fit took 202 passes, 31 with this bound. A length of 1/2 is the average
/// (x0 + 2 x1 + x2) / 4, which still damps every mode with −3 < λ < 1.
const SHORTEST: f64 = 0.5;

/// A jump is kept when the objective after it is within this share of x1's: near the
/// optimum the objective's changes are below its rounding over millions of terms.
const OBJECTIVE_SLACK: f64 = 1e-12;

/// r = x1 − x0 and v = x2 − 2x1 + x0 of one coordinate.
fn differences(x0: f64, x1: f64, x2: f64) -> (f64, f64) {
    (x1 - x0, x2 - 2.0 * x1 + x0)
}

enum Next {
    Moved(f64),
    Stopped { converged: bool },
}

fn next(fitter: &mut Fitter, state: &mut State) -> Next {
    if fitter.iterations >= fitter.max_iterations {
        return Next::Stopped { converged: false };
    }
    match fitter.iterate(state) {
        Some(change) if change < fitter.tolerance => Next::Stopped { converged: true },
        Some(change) if change.is_finite() => Next::Moved(change),
        _ => Next::Stopped { converged: false },
    }
}

/// Fits from `state` with squared extrapolation.
pub(crate) fn squarem(mut fitter: Fitter, mut state: State) -> Fitted {
    // The largest step length grows while extrapolations succeed (the adaptive `mstep`
    // rule of the SQUAREM package).
    let mut step_max = 1.0f64;
    // Jumps are judged by the changes of the passes until one is refused, and from then
    // on by the objective, which only the two passes each judgement compares compute.
    let mut by_objective = false;
    let finish = |state: State, fitter: &Fitter, converged: bool| Fitted {
        state,
        iterations: fitter.iterations,
        converged,
    };
    loop {
        let start = (fitter.iterations >= WARM).then(|| state.clone());
        fitter.compute_objective = false;
        let first = match next(&mut fitter, &mut state) {
            Next::Moved(change) => change,
            Next::Stopped { converged } => return finish(state, &fitter, converged),
        };
        let Some(start) = start else { continue };
        let middle = state.clone();
        fitter.compute_objective = by_objective;
        if let Next::Stopped { converged } = next(&mut fitter, &mut state) {
            return finish(state, &fitter, converged);
        }
        // The objective at x1 (the pass just run read x1; x2 has not been read).
        let reference = fitter.objective;
        let (mut rr, mut vv) = (0.0, 0.0);
        let mut add = |x0: f64, x1: f64, x2: f64| {
            let (r, v) = differences(x0, x1, x2);
            rr += r * r;
            vv += v * v;
        };
        for ((x0, x1), x2) in start
            .parameters
            .iter()
            .zip(&middle.parameters)
            .zip(&state.parameters)
        {
            add(*x0, *x1, *x2);
        }
        for ((x0, x1), x2) in start.items.iter().zip(&middle.items).zip(&state.items) {
            add(x0.difficulty, x1.difficulty, x2.difficulty);
        }
        for ((x0, x1), x2) in start
            .deviations
            .iter()
            .zip(&middle.deviations)
            .zip(&state.deviations)
        {
            add(*x0, *x1, *x2);
        }
        for ((x0, x1), x2) in start
            .deviation_variance
            .iter()
            .zip(&middle.deviation_variance)
            .zip(&state.deviation_variance)
        {
            add(x0.ln(), x1.ln(), x2.ln());
        }
        let step = if vv > 0.0 { -(rr / vv).sqrt() } else { -1.0 };
        let step = step.clamp(-step_max, -SHORTEST);
        if step == -1.0 {
            // The jump is x2 itself: the next cycle's first iteration stabilises, a plain
            // iteration, kept like any other. Where the sequence wanted a longer jump and
            // only the bound held it at x2, the next cycle may take one.
            if step_max == 1.0 && vv < rr {
                step_max = 4.0;
            }
            continue;
        }
        let end = state.clone();
        let jump = |x0: f64, x1: f64, x2: f64| {
            let (r, v) = differences(x0, x1, x2);
            x0 - 2.0 * step * r + step * step * v
        };
        for (index, value) in state.parameters.iter_mut().enumerate() {
            let proposed = jump(
                start.parameters[index],
                middle.parameters[index],
                end.parameters[index],
            );
            *value = fitter.bound(index, proposed, end.parameters[index]);
        }
        for (((item, x0), x1), x2) in state
            .items
            .iter_mut()
            .zip(&start.items)
            .zip(&middle.items)
            .zip(&end.items)
        {
            item.difficulty = jump(x0.difficulty, x1.difficulty, x2.difficulty);
        }
        for (((value, x0), x1), x2) in state
            .deviations
            .iter_mut()
            .zip(&start.deviations)
            .zip(&middle.deviations)
            .zip(&end.deviations)
        {
            *value = jump(*x0, *x1, *x2);
        }
        for (((value, x0), x1), x2) in state
            .deviation_variance
            .iter_mut()
            .zip(&start.deviation_variance)
            .zip(&middle.deviation_variance)
            .zip(&end.deviation_variance)
        {
            // In log σ², where its moves from pass to pass are closer to even.
            *value = jump(x0.ln(), x1.ln(), x2.ln())
                .exp()
                .clamp(VARIANCE_MIN, VARIANCE_MAX);
        }
        fitter.compute_objective = by_objective;
        let outcome = next(&mut fitter, &mut state);
        // The pass after the jump read the jumped point: keep it when the objective did
        // not fall below x1's, or (judging by the changes) when that pass moved no more
        // than the cycle's first.
        let better = |change: f64| {
            let (now, before) = (fitter.objective, reference);
            if now.is_finite() && before.is_finite() {
                now >= before - OBJECTIVE_SLACK * before.abs()
            } else {
                change <= first
            }
        };
        match outcome {
            Next::Moved(change) if better(change) => {
                if step == -step_max {
                    step_max *= 4.0;
                }
            }
            Next::Stopped { converged: true } => return finish(state, &fitter, true),
            _ if fitter.iterations >= fitter.max_iterations => return finish(end, &fitter, false),
            _ => {
                step_max = (step_max / 4.0).max(1.0);
                state = end;
                by_objective = true;
            }
        }
    }
}
