//! The online Elo baseline as LMArena computes it: every comparison in data order updates
//! both ratings by K·(outcome − expected), expected = 1 / (1 + 10^((R_b − R_a)/400)),
//! K = 4, initial rating 1000. A list (binary, numeric, ranking sample) is played as the
//! battles it implies: every model of a better group beats every model of a worse group,
//! in list order; models tied within a group do not play. That costs O(k²) per sample of
//! k models, which is what an Elo user pays (there is no linear form). A ranked model
//! with no battle keeps 1000. Elo depends on order, so it runs on one thread; a
//! bootstrap weight w replays the sample's battles round(w) times in place.

use super::lists::{Selection, Visitor};

const K_FACTOR: f64 = 4.0;
const SCALE: f64 = 400.0;
const BASE: f64 = 10.0;
const INITIAL: f64 = 1000.0;

struct EloState {
    ratings: Vec<f64>,
}

impl EloState {
    fn play(&mut self, a: usize, b: usize, credit_a: f64) {
        let expected_a = 1.0 / (1.0 + BASE.powf((self.ratings[b] - self.ratings[a]) / SCALE));
        let change = K_FACTOR * (credit_a - expected_a);
        self.ratings[a] += change;
        self.ratings[b] -= change;
    }
}

impl Visitor for EloState {
    fn list(&mut self, _position: usize, models: &[u32], ends: &[u32], weight: f64) {
        for _ in 0..weight.round() as usize {
            let mut start = 0usize;
            for &end in ends {
                let end = end as usize;
                for &winner in &models[start..end] {
                    for &loser in &models[end..] {
                        self.play(winner as usize, loser as usize, 1.0);
                    }
                }
                start = end;
            }
        }
    }

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
        for _ in 0..weight.round() as usize {
            self.play(model_a as usize, model_b as usize, credit_a);
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
