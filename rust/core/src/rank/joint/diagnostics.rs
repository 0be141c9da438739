//! Item diagnostics: each sample's difficulty and discrimination, and a flag for samples
//! that look broken.
//!
//! With the skills of the joint fit held fixed, each cardinal sample gets the two
//! parameters of the 2PL model (Birnbaum 1968): P(right) = σ(a_j (θ_m − b_j)) for binary
//! samples, and z = a_j (θ_m − b_j) + noise for numeric ones. The discrimination a_j has
//! a prior N(1, ω²) whose spread ω² is estimated from all samples by empirical Bayes
//! (EM: ω² = mean of (a_j − 1)² + Var(a_j)); the difficulty keeps the prior of the fit.
//! A sample on which strong models fail where weak ones pass has a < 0: the usual sign of
//! a wrong reference answer or a flipped label. It is flagged when a_j < 0 at the
//! one-sided 95% level: a_j + 1.645 sd < 0, the sd from the posterior's curvature.

use rayon::prelude::*;

use super::super::lists::Selection;
use super::super::{fisher, Method, RankOptions};
use super::layout::{self, Layout, Reading, NONE};
use super::{binary::sigmoid, fit_point, prior, Item, KAPPA2};
use crate::data::Dataset;
use crate::error::Result;

/// Diagnostics per selection position (in the selection's order).
#[derive(Debug, Clone, Default)]
pub struct ItemDiagnostics {
    /// The dataset sample index of each row.
    pub samples: Vec<u32>,
    /// Models measured on the sample (binary or numeric measurements).
    pub n_models: Vec<u32>,
    /// The difficulty in the joint model (logits, on the skills' scale); NaN for samples
    /// without binary or numeric measurements of ranked models.
    pub difficulty: Vec<f64>,
    /// The 2PL discrimination given the skills (1 = typical, < 0 = reversed).
    pub discrimination: Vec<f64>,
    pub discrimination_se: Vec<f64>,
    /// The discrimination is below 0 at the one-sided 95% level.
    pub flagged: Vec<bool>,
    /// Passes of the joint fit underneath (fewer when it resumed a solution, see
    /// [`RankOptions::initial_solution`]).
    pub iterations: usize,
}

/// The variance of the discrimination's prior.
const DISCRIMINATION_VARIANCE: f64 = 1.0;

/// One sample's 2PL fit.
#[derive(Clone, Copy)]
struct TwoParameter {
    discrimination: f64,
    variance: f64,
    fitted: bool,
}

impl Default for TwoParameter {
    fn default() -> Self {
        TwoParameter {
            discrimination: 1.0,
            variance: f64::NAN,
            fitted: false,
        }
    }
}

struct Context<'a> {
    selection: Selection<'a>,
    layout: &'a Layout,
    parameters: &'a [f64],
    /// The skills on each deviation stratum (`State::effective_skills`).
    effective: &'a [f64],
    spread_variance: &'a [f64],
    discrimination_variance: f64,
    /// The centre of the measurer effect's z (see `prior.rs`).
    mean_skill: f64,
}

/// log(1 + e^x) without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// One sample's data and priors, read once.
struct SampleView<'a> {
    skills: Vec<f64>,
    values: &'a [f32],
    reading: Reading,
    /// Numeric: z = scale · (sign · value − centre).
    sign: f64,
    centre: f64,
    scale: f64,
    location: f64,
    prior_a: f64,
    prior_b: f64,
}

impl SampleView<'_> {
    /// The log posterior at (a, b), its gradient, and the Fisher information (the
    /// expected curvature, positive definite where the observed one need not be).
    fn evaluate(&self, a: f64, b: f64) -> (f64, [f64; 2], [f64; 3]) {
        let mut value = -0.5 * (a - 1.0).powi(2) * self.prior_a
            - 0.5 * (b - self.location).powi(2) * self.prior_b;
        let (mut ga, mut gb) = (
            -(a - 1.0) * self.prior_a,
            -(b - self.location) * self.prior_b,
        );
        let (mut haa, mut hbb, mut hab) = (self.prior_a, self.prior_b, 0.0);
        for (&skill, &y) in self.skills.iter().zip(self.values) {
            let distance = skill - b;
            let eta = a * distance;
            let (residual, curvature) = match self.reading {
                Reading::Binary => {
                    let y = f64::from(y);
                    value -= y * softplus(-eta) + (1.0 - y) * softplus(eta);
                    let p = sigmoid(eta);
                    (y - p, p * (1.0 - p))
                }
                _ => {
                    let z = self.scale * (self.sign * f64::from(y) - self.centre);
                    value -= 0.5 * (z - eta).powi(2) / KAPPA2;
                    ((z - eta) / KAPPA2, 1.0 / KAPPA2)
                }
            };
            ga += residual * distance;
            gb -= residual * a;
            haa += curvature * distance * distance;
            hbb += curvature * a * a;
            hab -= curvature * a * distance;
        }
        (value, [ga, gb], [haa, hbb, hab])
    }

    /// Fisher scoring from (a, b) with step halving; the fit and its log posterior.
    fn climb(&self, mut a: f64, mut b: f64) -> (TwoParameter, f64) {
        let (mut value, mut gradient, mut curvature) = self.evaluate(a, b);
        for _ in 0..100 {
            let [haa, hbb, hab] = curvature;
            let determinant = haa * hbb - hab * hab;
            if determinant.is_nan() || determinant <= 0.0 {
                break;
            }
            let step_a = (hbb * gradient[0] - hab * gradient[1]) / determinant;
            let step_b = (haa * gradient[1] - hab * gradient[0]) / determinant;
            let mut length = 1.0f64.min(2.0 / step_a.abs().max(step_b.abs()).max(1e-300));
            let mut moved = false;
            for _ in 0..30 {
                let next = self.evaluate(a + length * step_a, b + length * step_b);
                if next.0 >= value - 1e-12 * value.abs() {
                    a += length * step_a;
                    b += length * step_b;
                    (value, gradient, curvature) = next;
                    moved = true;
                    break;
                }
                length *= 0.5;
            }
            if !moved || (length * step_a).abs().max((length * step_b).abs()) < 1e-9 {
                break;
            }
        }
        let [haa, hbb, hab] = curvature;
        let determinant = haa * hbb - hab * hab;
        let variance = if determinant > 0.0 {
            hbb / determinant
        } else {
            f64::NAN
        };
        let fit = TwoParameter {
            discrimination: a,
            variance,
            fitted: variance.is_finite(),
        };
        (fit, value)
    }
}

/// The 2PL posterior mode of the sample at `position`. The posterior of (a, b) can have
/// two modes, a reversed item (a < 0) and a flat one; the climb starts from both signs
/// of a and keeps the higher.
fn fit_sample(context: &Context, position: usize, difficulty: f64) -> TwoParameter {
    let layout = context.layout;
    let sample = context.selection.sample(position);
    let group = layout.location[sample];
    if group == NONE || layout.location_parameter[group as usize] == NONE {
        return TwoParameter::default();
    }
    let data = context.selection.data;
    let range = data.cardinal.range(sample);
    let spread = layout.spread[sample] as usize;
    let reading = layout.reading[sample];
    let (sign, centre, scale) = match reading {
        Reading::Numeric { sign } => (
            sign,
            layout.centre[spread],
            context.parameters[layout.scale_parameter[spread] as usize],
        ),
        _ => (1.0, 0.0, 1.0),
    };
    let models = &data.cardinal.models[range.clone()];
    let (skills, _) = layout
        .deviations
        .skills_of(group, context.parameters, context.effective);
    let view = SampleView {
        skills: models
            .iter()
            .map(|&m| skills[layout.local[m as usize] as usize])
            .collect(),
        values: &data.cardinal.values[range],
        reading,
        sign,
        centre,
        scale,
        location: context.parameters[layout.location_parameter[group as usize] as usize]
            + prior::effect(
                models,
                &layout.local,
                context.parameters,
                context.mean_skill,
                context.parameters[layout.measurer_parameter[spread] as usize],
            )
            .map_or(0.0, |effect| effect.shift()),
        prior_a: 1.0 / context.discrimination_variance,
        prior_b: 1.0 / context.spread_variance[spread],
    };
    // The reversed start mirrors the difficulty about the models' mean skill, so that
    // both starts predict the sample's share of right answers.
    let mean_skill = view.skills.iter().sum::<f64>() / view.skills.len().max(1) as f64;
    let (up, up_value) = view.climb(1.0, difficulty);
    let (down, down_value) = view.climb(-1.0, 2.0 * mean_skill - difficulty);
    if down_value > up_value {
        down
    } else {
        up
    }
}

/// Per-sample difficulty and discrimination of `subset` (`None` = every sample), with
/// the skills of the joint fit under `options` (whatever their `method`).
pub fn item_diagnostics(
    data: &Dataset,
    subset: Option<&[u32]>,
    options: &RankOptions,
) -> Result<ItemDiagnostics> {
    let joint = RankOptions {
        method: Method::Joint,
        ..options.clone()
    };
    let options = &joint;
    super::super::validate(data, subset, options)?;
    let selection = Selection::new(data, subset);
    layout::layout(&selection, super::JointForm::CORE)?;
    let form = super::resolve_form(&selection, options).form;
    let layout = layout::layout(&selection, form)?;
    let len = selection.len();
    let mut diagnostics = ItemDiagnostics {
        samples: (0..len).map(|p| selection.sample(p) as u32).collect(),
        n_models: (0..len)
            .map(|p| {
                let sample = selection.sample(p);
                if sample + 1 < data.cardinal.offsets.len() {
                    data.cardinal.range(sample).len() as u32
                } else {
                    0
                }
            })
            .collect(),
        difficulty: vec![f64::NAN; len],
        discrimination: vec![f64::NAN; len],
        discrimination_se: vec![f64::NAN; len],
        flagged: vec![false; len],
        iterations: 0,
    };
    if layout.ranked_models.is_empty() {
        return Ok(diagnostics);
    }
    let point = fit_point(selection, &layout, options);
    diagnostics.iterations = point.iterations;
    let state = &point.state;
    let spread_variance = state.spread_variance(&layout);
    let effective = state.effective_skills(&layout);
    let context = Context {
        selection,
        layout: &layout,
        parameters: &state.parameters,
        effective: &effective,
        spread_variance: &spread_variance,
        discrimination_variance: DISCRIMINATION_VARIANCE,
        mean_skill: prior::mean_skill(&state.parameters[..layout.n_ranked()]),
    };
    let fits: Vec<TwoParameter> = (0..len)
        .into_par_iter()
        .map(|position| fit_sample(&context, position, state.items[position].difficulty))
        .collect();
    // One-sided: a sample is flagged when a < 0 at the 95% level.
    let z = fisher::normal_quantile(0.95);
    for (position, (fit, item)) in fits.iter().zip(&state.items).enumerate() {
        if !fit.fitted {
            continue;
        }
        let Item { difficulty, .. } = *item;
        let se = fit.variance.sqrt();
        diagnostics.difficulty[position] = difficulty;
        diagnostics.discrimination[position] = fit.discrimination;
        diagnostics.discrimination_se[position] = se;
        diagnostics.flagged[position] = fit.discrimination + z * se < 0.0;
    }
    Ok(diagnostics)
}
