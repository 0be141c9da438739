//! The centre of the measurer effect's covariate z (see `prior.rs`): the mean skill of the
//! models that have data in the fit's selection.
//!
//! In a point fit that is every ranked model. A bootstrap replicate can draw none of a
//! thinly measured model's samples; its skill is then held by the skill prior alone, and
//! were it still in the centre, the direction that moves it and every location together
//! would be nearly flat: the replicate's steps wander along it and the fit can run away.
//! Out of the centre, such a skill moves nothing but itself.

use super::super::lists::{Selection, Visitor};
use super::layout::Layout;

/// Which ranked models (by local index) the centre averages over.
pub(crate) struct Centre {
    /// `None`: every ranked model.
    members: Option<Vec<bool>>,
    count: usize,
}

/// Marks the models with a measurement of positive weight.
struct Measured(Vec<bool>);

impl Visitor for Measured {
    fn list(&mut self, _position: usize, models: &[u32], _ends: &[u32], _weight: f64) {
        for &model in models {
            self.0[model as usize] = true;
        }
    }

    fn comparison(&mut self, _: usize, model_a: u32, model_b: u32, _: f64, _: f64) {
        self.0[model_a as usize] = true;
        self.0[model_b as usize] = true;
    }
}

impl Centre {
    /// Every ranked model.
    pub fn all(layout: &Layout) -> Centre {
        Centre {
            members: None,
            count: layout.n_ranked(),
        }
    }

    /// The ranked models with data in `selection` (a weighted selection visits only the
    /// positions of positive weight).
    pub fn of(selection: &Selection, layout: &Layout) -> Centre {
        if selection.weights.is_none() {
            return Centre::all(layout);
        }
        let n_models = selection.data.n_models;
        let measured = selection.fold(
            || Measured(vec![false; n_models]),
            |mut left, right| {
                left.0.iter_mut().zip(&right.0).for_each(|(l, r)| *l |= r);
                left
            },
        );
        let members: Vec<bool> = layout
            .ranked_models
            .iter()
            .map(|&model| measured.0[model as usize])
            .collect();
        let count = members.iter().filter(|&&member| member).count();
        if count == members.len() {
            return Centre::all(layout);
        }
        Centre {
            members: Some(members),
            count,
        }
    }

    /// Whether the skill of local model `index` moves the centre.
    pub fn contains(&self, index: usize) -> bool {
        self.members.as_ref().is_none_or(|members| members[index])
    }

    /// The number of models averaged over.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The centre at `skills` (ranked-model order).
    pub fn mean(&self, skills: &[f64]) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let total: f64 = skills
            .iter()
            .enumerate()
            .filter(|&(index, _)| self.contains(index))
            .map(|(_, skill)| skill)
            .sum();
        total / self.count as f64
    }
}
