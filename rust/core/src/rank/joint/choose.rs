//! Choosing the model's form by held-out measurements: forward selection from the core,
//! each part entering only where it predicts measurements the fit did not see better
//! than the form without it, by more than [`ENTER_Z`] standard errors.
//!
//! The score is K-fold cross-validation over measurements (`folds.rs`, `heldout.rs`).
//! Each candidate is fitted once on all the scored samples; each fold's fit resumes from
//! that solution, so the K fits cost a few passes each. The standard error of a gain is
//! clustered by sample: a sample's held-out measurements share its difficulty, so they
//! are not independent evidence. Parts are tried in a fixed order (spreads, deviations,
//! measurer): a spread per benchmark is the most common departure from the core and the
//! cheapest; deviations and the measurer effect read structure that only large, varied
//! pools hold. A part that cannot apply to the selection (no benchmark with enough
//! repeated samples, a single stratum per benchmark) is not tried, and the reason says so.

use std::sync::Arc;

use rayon::prelude::*;

use super::super::lists::Selection;
use super::folds::{compact, fold_of, scored_samples, Scored as Samples, BUDGET, FOLDS};
use super::form::{FormCandidate, FormReport, JointForm, SPREAD_EVIDENCE};
use super::heldout::held_out;
use super::layout::{layout, NONE};
use super::solution::JointSolution;
use super::state::State;
use super::{fit, settings};
use crate::rank::RankOptions;

/// Standard errors by which a part's held-out gain must exceed 0 to enter: about the
/// 2.5% one-sided level, the usual bar for evidence, kept a priori (not tuned on data).
pub(crate) const ENTER_Z: f64 = 2.0;

/// Held-out measurements below which the selection keeps the core: too few to tell forms
/// apart.
const MINIMUM_HELD_OUT: usize = 100;

/// Largest change of a pass (logits) at which a cross-validation fit stops: a skill or
/// difficulty 1e-5 logits from its optimum moves a held-out log-likelihood by about that
/// much per measurement, far below the standard errors of the gains it is compared with
/// (1e-3 and more on the shared data), and the passes after it would buy nothing.
const HELD_OUT_TOLERANCE: f64 = 1e-5;

/// The per-sample held-out log-likelihood of one form, summed over the folds.
struct Scored {
    by_sample: Vec<f64>,
    measurements: usize,
}

/// Chooses the form of a joint fit of `selection`.
pub(crate) fn choose(selection: &Selection, options: &RankOptions) -> FormReport {
    let data = selection.data;
    let samples = scored_samples(selection);
    let all = compact(data, &samples, |_, _| true);
    let whole = Selection::new(&all, None);
    let folded = if samples.samples.len() < selection.len() {
        format!(
            "{FOLDS}-fold cross-validation over measurements on {} of the selection's samples \
             ({} measurements; at most {BUDGET})",
            samples.samples.len(),
            all.n_measurements()
        )
    } else {
        format!(
            "{FOLDS}-fold cross-validation over the selection's {} measurements",
            all.n_measurements()
        )
    };
    let core = JointForm::CORE;
    let Ok(full_layout) = layout(&whole, JointForm::FULL) else {
        return kept_core("the selection could not be laid out for cross-validation");
    };
    let repeated = full_layout
        .repeated
        .iter()
        .zip(&full_layout.spread_parameter)
        .any(|(&count, &index)| index != NONE && count >= SPREAD_EVIDENCE);
    let applicable = |part: &str| -> Option<&'static str> {
        match part {
            "deviations" if full_layout.deviations.n_strata() == 0 => {
                Some("no benchmark has two or more strata")
            }
            "spreads" | "measurer" if !repeated => {
                Some("no benchmark has enough samples measured twice or more")
            }
            _ => None,
        }
    };
    let trainings: Vec<_> = (0..FOLDS)
        .map(|fold| {
            compact(data, &samples, |sample, place| {
                fold_of(sample, place) != fold
            })
        })
        .collect();
    let score = |form: JointForm| score_form(&whole, &samples, &trainings, form, options);
    let Some(mut current) = score(core) else {
        return kept_core("the core could not be fitted on the scored samples");
    };
    let measurements = current.measurements;
    if measurements < MINIMUM_HELD_OUT {
        return kept_core(&format!(
            "{measurements} held-out measurements are too few to compare forms"
        ));
    }
    let per = |total: f64| total / measurements as f64;
    let mut form = core;
    let mut candidates = vec![FormCandidate {
        form,
        log_likelihood: per(current.by_sample.iter().sum()),
        gain: 0.0,
        standard_error: 0.0,
        kept: true,
    }];
    let mut decisions = Vec::new();
    for part in JointForm::PARTS {
        if let Some(why) = applicable(part) {
            decisions.push(format!("{part}: not tried ({why})"));
            continue;
        }
        let candidate = form.with(part);
        let Some(scored) = score(candidate) else {
            decisions.push(format!("{part}: left out (its fit failed)"));
            continue;
        };
        let (gain, error) = clustered_gain(&scored.by_sample, &current.by_sample);
        let kept = gain > ENTER_Z * error;
        decisions.push(format!(
            "{part}: {} (held-out gain {:+.4} ± {:.4} per measurement)",
            if kept { "kept" } else { "left out" },
            per(gain),
            per(error)
        ));
        candidates.push(FormCandidate {
            form: candidate,
            log_likelihood: per(scored.by_sample.iter().sum()),
            gain: per(gain),
            standard_error: per(error),
            kept,
        });
        if kept {
            form = candidate;
            current = scored;
        }
    }
    FormReport {
        form,
        chosen_by: "cross-validation",
        candidates,
        measurements,
        reason: format!(
            "{}; a part enters when its gain exceeds {ENTER_Z} standard errors: {}",
            folded,
            decisions.join("; ")
        ),
    }
}

fn kept_core(why: &str) -> FormReport {
    FormReport {
        form: JointForm::CORE,
        chosen_by: "cross-validation",
        candidates: Vec::new(),
        measurements: 0,
        reason: format!("core kept: {why}"),
    }
}

/// The total gain Σ_s (a_s − b_s) and its standard error, clustered by sample.
fn clustered_gain(a: &[f64], b: &[f64]) -> (f64, f64) {
    let differences: Vec<f64> = a.iter().zip(b).map(|(a, b)| a - b).collect();
    let count = differences.len() as f64;
    let total: f64 = differences.iter().sum();
    if count < 2.0 {
        return (total, f64::INFINITY);
    }
    let mean = total / count;
    let squares: f64 = differences.iter().map(|d| (d - mean) * (d - mean)).sum();
    (total, (count / (count - 1.0) * squares).sqrt())
}

/// The held-out score of `form`: fitted once on `whole`, then on each fold's training
/// data resumed from that fit.
fn score_form(
    whole: &Selection,
    samples: &Samples,
    trainings: &[crate::data::Dataset],
    form: JointForm,
    options: &RankOptions,
) -> Option<Scored> {
    let mut settings = settings(options);
    settings.tolerance = settings.tolerance.max(HELD_OUT_TOLERANCE);
    let full = layout(whole, form).ok()?;
    let state = State::start(&full, whole.len(), None);
    let fitted = fit::fit(*whole, &full, &settings, state, fit::Start::Cold);
    let solution = Arc::new(JointSolution::new(
        whole,
        &full,
        &fitted.state,
        whole.data.n_models,
    ));
    let folds: Vec<Option<(Vec<f64>, usize)>> = trainings
        .par_iter()
        .enumerate()
        .map(|(fold, training)| {
            let selection = Selection::new(training, None);
            let layout = layout(&selection, form).ok()?;
            let mut state = State::start(&layout, selection.len(), None);
            let new_spreads = solution.resume(&selection, &layout, &mut state);
            state.impose_form(&layout);
            let start = fit::Start::Resumed { new_spreads };
            let fitted = fit::fit(selection, &layout, &settings, state, start);
            let scored = held_out(
                whole.data,
                &samples.keys,
                fold,
                &selection,
                &layout,
                &fitted.state,
            );
            Some((scored.by_sample, scored.measurements))
        })
        .collect();
    let mut total = Scored {
        by_sample: vec![0.0; whole.len()],
        measurements: 0,
    };
    for (by_sample, measurements) in folds.into_iter().collect::<Option<Vec<_>>>()? {
        for (sum, value) in total.by_sample.iter_mut().zip(by_sample) {
            *sum += value;
        }
        total.measurements += measurements;
    }
    Some(total)
}
