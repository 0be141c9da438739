//! The online Elo baseline as LMArena computes it: every comparison in data order updates
//! both ratings by K·(outcome − expected), expected = 1 / (1 + 10^((R_b − R_a)/400)),
//! K = 4, initial rating 1000. Only comparisons move ratings; a ranked model with none
//! keeps 1000. Elo depends on order, so it runs on one thread; a bootstrap weight w
//! replays the sample's comparisons round(w) times in place.

use super::lists::{Selection, Visitor};

const K_FACTOR: f64 = 4.0;
const SCALE: f64 = 400.0;
const BASE: f64 = 10.0;
const INITIAL: f64 = 1000.0;

struct EloState {
    ratings: Vec<f64>,
}

impl Visitor for EloState {
    fn list(&mut self, _position: usize, _models: &[u32], _ends: &[u32], _weight: f64) {}

    fn comparison(
        &mut self,
        _position: usize,
        model_a: u32,
        model_b: u32,
        credit_a: f64,
        weight: f64,
    ) {
        if model_a == model_b {
            return;
        }
        let (a, b) = (model_a as usize, model_b as usize);
        for _ in 0..weight.round() as usize {
            let expected_a = 1.0 / (1.0 + BASE.powf((self.ratings[b] - self.ratings[a]) / SCALE));
            let change = K_FACTOR * (credit_a - expected_a);
            self.ratings[a] += change;
            self.ratings[b] -= change;
        }
    }
}

/// Elo ratings of the ranked models (NaN for the others).
pub(crate) fn elo_comparisons(selection: &Selection, ranked: &[bool]) -> Vec<f64> {
    let mut state = EloState {
        ratings: vec![INITIAL; selection.data.n_models],
    };
    selection.visit_all(&mut state);
    state
        .ratings
        .iter()
        .zip(ranked)
        .map(|(&rating, &ranked)| if ranked { rating } else { f64::NAN })
        .collect()
}
