//! One pass over the selection: difficulty steps, then the gradient and curvature of the
//! skills and hubs with the difficulties profiled out.
//!
//! The difficulties b_j are eliminated exactly (a Schur complement): sample j, whose
//! difficulty has posterior curvature H_j and couplings u_j to the skills and hubs, adds
//! −u_j u_jᵀ / H_j to their curvature. The skill–skill part of that costs O(L²) per
//! sample of L models and is only accumulated for the full Newton step; everything else
//! (per skill: gradient, diagonal, couplings to the few hubs) costs O(L). Each chunk of
//! positions owns its slice of difficulties, so a pass writes them in place, in
//! parallel (rayon), without locks.
//!
//! The spreads are hubs too, accumulated here in ρ_k = log τ_k². Their gradient and curvature are those of
//! the Laplace approximation of the marginal posterior (the difficulties integrated out),
//! A = Σ_j [ℓ_j(b̂_j) − (b̂_j − μ)²/(2τ²) − ½ log(τ² H_j)], whose ρ-gradient is
//! ½ Σ_j [(b̂_j − μ)²/τ² − W_j/H_j] (W_j the data's precision): the empirical-Bayes
//! spread (see `prior.rs`). Its couplings to skills and locations come from the
//! difficulties' dependence on them, so one Newton step moves spreads and skills
//! together; alternating them instead converges at the slow rate of EM.
//!
//! With a measurer effect the prior's location ℓ_j = μ + β z_j depends on β and on the
//! measurers' skills; ℓ's terms are carried to them by the chain rule (see
//! `scatter.rs`), still O(L) per sample.

use rayon::prelude::*;

use super::super::lists::{Selection, Visitor};
use super::centre::Centre;
use super::layout::{Layout, Reading, NONE};
use super::ranking::ListTerms;
use super::scatter::{self, CardinalSample, SampleHubs};
use super::sums::{Sums, DIAGONAL, DROPPED, GRADIENT};
use super::{binary, numeric, pairwise, prior, Item};

/// One measurement of a sample, after its difficulty step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The model's local (skill) index.
    pub local: u32,
    /// d log-likelihood / dθ at the new difficulty (first order).
    pub residual: f64,
    /// −d² log-likelihood / dθ².
    pub curvature: f64,
    /// Numeric samples: the oriented, centred value.
    pub value: f64,
}

/// What a pass reads besides the data.
pub(crate) struct PassInput<'a> {
    pub selection: Selection<'a>,
    pub layout: &'a Layout,
    pub parameters: &'a [f64],
    /// τ² per spread group (e^ρ).
    pub spread_variance: &'a [f64],
    /// Davidson's ν (0: plain Bradley–Terry).
    pub tie: f64,
    /// Difficulty Newton steps per binary sample.
    pub steps: usize,
    /// A difficulty step below this ends a binary sample's steps.
    pub small: f64,
    /// Accumulate the skill–skill curvature too (for the full Newton step).
    pub full: bool,
    /// Accumulate the Gershgorin size of the dropped skill–skill couplings.
    pub dropped: bool,
    /// The models z's centre averages over.
    pub centre: &'a Centre,
    /// Compute the objective (`Sums::objective`, which is meaningless otherwise).
    pub objective: bool,
    /// The skills on each deviation stratum (`State::effective_skills`).
    pub effective: &'a [f64],
}

struct ChunkVisitor<'a, 'b> {
    input: &'a PassInput<'a>,
    items: &'b mut [Item],
    start: usize,
    sums: Sums,
    entries: Vec<Entry>,
    list: ListTerms,
    mean_skill: f64,
}

impl Visitor for ChunkVisitor<'_, '_> {
    fn list(&mut self, _position: usize, models: &[u32], ends: &[u32], weight: f64) {
        let layout = self.input.layout;
        if ends.len() < 2 || models.iter().any(|&m| layout.local[m as usize] == NONE) {
            return;
        }
        self.list.fill(
            models,
            ends,
            &layout.local,
            self.input.parameters,
            self.input.objective,
        );
        let sums = &mut self.sums;
        if self.input.objective {
            sums.objective += weight * self.list.log_likelihood;
        }
        for &(i, gradient, curvature, _, _) in &self.list.members {
            let row = sums.row(i as usize);
            row[GRADIENT] += weight * gradient;
            row[DIAGONAL] += weight * curvature;
            // A list's curvature is a Laplacian (rows sum to zero, off-diagonals
            // negative): the couplings of a member sum to its diagonal.
            row[DROPPED] += weight * curvature;
        }
        if !sums.pairs.is_empty() {
            let members = &self.list.members;
            for (p, &(i, _, _, group_i, t_i)) in members.iter().enumerate() {
                for &(j, _, _, group_j, t_j) in &members[..p] {
                    let value =
                        weight * t_i * t_j * self.list.second[group_i.min(group_j) as usize];
                    sums.skill_pair(i as usize, j as usize, -value);
                }
            }
        }
    }

    fn cardinal(
        &mut self,
        position: usize,
        models: &[u32],
        values: &[f32],
        _ends: &[u32],
        weight: f64,
    ) {
        let input = self.input;
        let layout = input.layout;
        let n = layout.n_ranked();
        let sample = input.selection.sample(position);
        let group = layout.location[sample];
        if group == NONE || layout.location_parameter[group as usize] == NONE {
            return;
        }
        let location_index = layout.location_parameter[group as usize] as usize;
        let spread = layout.spread[sample] as usize;
        let prior = 1.0 / input.spread_variance[spread];
        let measurer_index = layout.measurer_parameter[spread] as usize;
        let effect = prior::effect(
            models,
            &layout.local,
            input.parameters,
            self.mean_skill,
            input.parameters[measurer_index],
        );
        let location = input.parameters[location_index] + effect.map_or(0.0, |e| e.shift());
        // On a stratum with deviations the outcomes read θ + u; the measurer effect reads
        // the common skills.
        let (skills, cells) = layout
            .deviations
            .skills_of(group, input.parameters, input.effective);
        let item = &mut self.items[position - self.start];
        let (stepped, scale) = match layout.reading[sample] {
            Reading::Absent => return,
            Reading::Binary => {
                let stepped = binary::difficulty_steps(
                    models,
                    values,
                    &layout.local,
                    skills,
                    location,
                    prior,
                    item.difficulty,
                    input.steps,
                    input.small,
                    input.objective,
                    &mut self.entries,
                );
                (stepped, None)
            }
            Reading::Numeric { sign } => {
                let scale_index = layout.scale_parameter[spread] as usize;
                let stepped = numeric::difficulty_update(
                    models,
                    values,
                    &layout.local,
                    skills,
                    sign,
                    layout.centre[spread],
                    input.parameters[scale_index],
                    location,
                    prior,
                    item.difficulty,
                    &mut self.entries,
                );
                (stepped, Some(scale_index - n))
            }
        };
        let (difficulty, precision) = (stepped.difficulty, stepped.precision);
        *item = Item { difficulty };
        self.sums.item_step = self.sums.item_step.max(stepped.step.abs());
        let deviation = difficulty - location;
        if input.objective {
            // This sample's term of the marginal posterior A (see the module comment):
            // log τ²H = log(1 + τ²W).
            self.sums.objective += weight
                * (stepped.log_likelihood
                    - 0.5 * deviation * deviation * prior
                    - 0.5 * (precision / prior).ln_1p());
        }
        let hubs = SampleHubs {
            location: location_index - n,
            spread: layout.spread_parameter[spread] as usize - n,
            scale,
            measurer: measurer_index - n,
            effect,
        };
        let sample = CardinalSample {
            entries: &self.entries,
            parameters: input.parameters,
            dropped: input.dropped,
            weight,
            hubs,
            deviation,
            precision,
            prior,
            cells,
        };
        scatter::scatter(&mut self.sums, &sample);
    }

    fn comparison(
        &mut self,
        _position: usize,
        model_a: u32,
        model_b: u32,
        credit_a: f64,
        weight: f64,
    ) {
        let layout = self.input.layout;
        let (a, b) = (
            layout.local[model_a as usize],
            layout.local[model_b as usize],
        );
        if model_a == model_b || a == NONE || b == NONE {
            return;
        }
        let (a, b) = (a as usize, b as usize);
        let skills = self.input.parameters;
        let difference = skills[a] - skills[b];
        let term = pairwise::comparison(difference, credit_a, self.input.tie);
        let sums = &mut self.sums;
        if self.input.objective {
            sums.objective +=
                weight * pairwise::log_likelihood(difference, credit_a, self.input.tie);
        }
        let curvature = weight * term.curvature;
        for (index, sign) in [(a, 1.0), (b, -1.0)] {
            let row = sums.row(index);
            row[GRADIENT] += sign * weight * term.gradient;
            row[DIAGONAL] += curvature;
        }
        sums.skill_pair(a, b, -curvature);
        sums.tie_gradient += weight * term.tie_gradient;
        sums.tie_curvature += weight * term.tie_curvature;
    }
}

/// Runs one pass; `items` holds one difficulty per selection position and is updated.
pub(crate) fn run(input: &PassInput, items: &mut [Item]) -> Sums {
    let layout = input.layout;
    let n = layout.n_ranked();
    let len = input.selection.len();
    // The full step's n × n matrix is large: one accumulator per thread. Otherwise a few
    // chunks per thread balance uneven samples.
    let threads = rayon::current_num_threads();
    let chunks = if input.full { threads } else { threads * 4 };
    let chunk_len = len.div_ceil(chunks.max(1)).max(1);
    let init = || {
        Sums::new(
            n,
            layout.n_parameters,
            layout.deviations.n_cells(),
            input.full,
        )
    };
    let mean_skill = input.centre.mean(&input.parameters[..n]);
    items
        .par_chunks_mut(chunk_len)
        .enumerate()
        .map(|(chunk, slice)| {
            let start = chunk * chunk_len;
            let mut visitor = ChunkVisitor {
                input,
                items: slice,
                start,
                sums: init(),
                entries: Vec::new(),
                list: ListTerms::new(),
                mean_skill,
            };
            let mut ends = Vec::new();
            let end = (start + chunk_len).min(len);
            for position in start..end {
                input.selection.visit(position, &mut visitor, &mut ends);
            }
            visitor.sums
        })
        .reduce_with(Sums::merge)
        .unwrap_or_else(init)
}
