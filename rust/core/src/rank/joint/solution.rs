//! A joint fit's whole solution, keyed by what outlives one selection (model, sample,
//! stratum and benchmark indexes of the dataset), so that a later fit on a grown pool
//! starts from all of it.
//!
//! A warm start from the skills alone saves nothing here: the difficulties and hubs,
//! which most passes go to, would start afresh. Carrying them is the joint model's
//! counterpart of Plackett–Luce's warm start, whose scores are its whole state. New
//! samples start at their stratum's location and new groups where a cold fit puts them.
//! The start is only a start: the resumed fit stops where a cold fit of the same data
//! does (to the tolerance, in `rank_joint.rs` and `test_ranking.py`), in fewer passes.

use std::collections::HashMap;

use super::super::lists::Selection;
use super::layout::{Layout, NONE};
use super::state::State;

/// A location group's key: (stratum, numeric).
type LocationKey = (u32, bool);
/// A spread group's key: (benchmark, numeric).
type SpreadKey = (u32, bool);

/// One spread group's hubs.
#[derive(Clone, Copy)]
struct Hubs {
    /// NaN for binary groups, which have no scale.
    scale: f64,
    spread: f64,
    measurer: f64,
}

/// The solution of a joint fit (see the module comment). Opaque: pass it back through
/// [`RankOptions::initial_solution`](super::super::RankOptions::initial_solution).
#[derive(Clone, Default)]
pub struct JointSolution {
    /// By model index; NaN for models the fit did not rank.
    skills: Vec<f64>,
    /// Fitted samples (dataset indexes, ascending) and their difficulties.
    samples: Vec<u32>,
    difficulties: Vec<f64>,
    locations: HashMap<LocationKey, f64>,
    hubs: HashMap<SpreadKey, Hubs>,
    tie: f64,
    /// By (model index, stratum key): the deviations (see `deviations.rs`).
    deviations: HashMap<(u32, LocationKey), f64>,
    /// By spread key: σ² of the deviations.
    deviation_variance: HashMap<SpreadKey, f64>,
}

impl std::fmt::Debug for JointSolution {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JointSolution")
            .field("models", &self.skills.len())
            .field("samples", &self.samples.len())
            .field("locations", &self.locations.len())
            .field("spread_groups", &self.hubs.len())
            .finish()
    }
}

impl JointSolution {
    /// Keys `state`, fitted on `selection` with `layout`.
    pub(crate) fn new(
        selection: &Selection,
        layout: &Layout,
        state: &State,
        n_models: usize,
    ) -> JointSolution {
        let mut skills = vec![f64::NAN; n_models];
        for (local, &model) in layout.ranked_models.iter().enumerate() {
            skills[model as usize] = state.parameters[local];
        }
        let mut pairs: Vec<(u32, f64)> = (0..selection.len())
            .filter_map(|position| {
                let sample = selection.sample(position);
                let group = layout.location[sample];
                (group != NONE && layout.location_parameter[group as usize] != NONE)
                    .then(|| (sample as u32, state.items[position].difficulty))
            })
            .collect();
        pairs.sort_unstable_by_key(|&(sample, _)| sample);
        pairs.dedup_by_key(|pair| pair.0);
        let (samples, difficulties) = pairs.into_iter().unzip();
        let parameter = |index: u32| {
            if index == NONE {
                f64::NAN
            } else {
                state.parameters[index as usize]
            }
        };
        let locations = layout
            .location_key
            .iter()
            .zip(&layout.location_parameter)
            .filter(|(_, &index)| index != NONE)
            .map(|(&key, &index)| (key, parameter(index)))
            .collect();
        let hubs = (0..layout.spread_key.len())
            .filter(|&group| layout.spread_parameter[group] != NONE)
            .map(|group| {
                let hubs = Hubs {
                    scale: parameter(layout.scale_parameter[group]),
                    spread: parameter(layout.spread_parameter[group]),
                    measurer: parameter(layout.measurer_parameter[group]),
                };
                (layout.spread_key[group], hubs)
            })
            .collect();
        let cells = &layout.deviations;
        let mut deviations = HashMap::new();
        let mut deviation_variance = HashMap::new();
        for stratum in 0..cells.n_strata() {
            let key = layout.location_key[cells.location[stratum] as usize];
            for (local, &model) in layout.ranked_models.iter().enumerate() {
                deviations.insert((model, key), state.deviations[stratum * cells.n + local]);
            }
            let group = cells.spread[stratum] as usize;
            deviation_variance.insert(layout.spread_key[group], state.deviation_variance[group]);
        }
        JointSolution {
            skills,
            samples,
            difficulties,
            locations,
            hubs,
            tie: state.tie,
            deviations,
            deviation_variance,
        }
    }

    /// The solution as bytes that [`JointSolution::from_bytes`] reads back, in this
    /// and later builds (the fit store of `onebench.ranking` keeps them in the pool).
    /// Maps are written in key order, so one solution always gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            64 + 8 * self.skills.len() + 12 * self.samples.len() + 21 * self.deviations.len(),
        );
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, FORMAT);
        put_len(&mut out, self.skills.len());
        self.skills
            .iter()
            .for_each(|&value| put_f64(&mut out, value));
        put_len(&mut out, self.samples.len());
        for (&sample, &difficulty) in self.samples.iter().zip(&self.difficulties) {
            put_u32(&mut out, sample);
            put_f64(&mut out, difficulty);
        }
        put_len(&mut out, self.locations.len());
        for (key, value) in sorted(&self.locations) {
            put_key(&mut out, key);
            put_f64(&mut out, *value);
        }
        put_len(&mut out, self.hubs.len());
        for (key, hubs) in sorted(&self.hubs) {
            put_key(&mut out, key);
            put_f64(&mut out, hubs.scale);
            put_f64(&mut out, hubs.spread);
            put_f64(&mut out, hubs.measurer);
        }
        put_f64(&mut out, self.tie);
        put_len(&mut out, self.deviations.len());
        for ((model, key), value) in sorted(&self.deviations) {
            put_u32(&mut out, model);
            put_key(&mut out, key);
            put_f64(&mut out, *value);
        }
        put_len(&mut out, self.deviation_variance.len());
        for (key, value) in sorted(&self.deviation_variance) {
            put_key(&mut out, key);
            put_f64(&mut out, *value);
        }
        out
    }

    /// Reads [`JointSolution::to_bytes`]'s layout; `None` for anything else (another
    /// format version, a truncated or padded buffer, samples out of order), never a
    /// partly read solution.
    pub fn from_bytes(bytes: &[u8]) -> Option<JointSolution> {
        let mut reader = Reader { bytes };
        if reader.take(MAGIC.len())? != MAGIC || reader.u32()? != FORMAT {
            return None;
        }
        let skills = reader.list(|reader| reader.f64())?;
        let pairs = reader.list(|reader| Some((reader.u32()?, reader.f64()?)))?;
        if pairs.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
            // `difficulty` looks samples up by binary search.
            return None;
        }
        let (samples, difficulties) = pairs.into_iter().unzip();
        let locations = reader
            .list(|reader| Some((reader.key()?, reader.f64()?)))?
            .into_iter()
            .collect();
        let hubs = reader
            .list(|reader| {
                let key = reader.key()?;
                let hubs = Hubs {
                    scale: reader.f64()?,
                    spread: reader.f64()?,
                    measurer: reader.f64()?,
                };
                Some((key, hubs))
            })?
            .into_iter()
            .collect();
        let tie = reader.f64()?;
        let deviations = reader
            .list(|reader| Some(((reader.u32()?, reader.key()?), reader.f64()?)))?
            .into_iter()
            .collect();
        let deviation_variance = reader
            .list(|reader| Some((reader.key()?, reader.f64()?)))?
            .into_iter()
            .collect();
        reader.bytes.is_empty().then_some(JointSolution {
            skills,
            samples,
            difficulties,
            locations,
            hubs,
            tie,
            deviations,
            deviation_variance,
        })
    }

    fn difficulty(&self, sample: usize) -> Option<f64> {
        let sample = u32::try_from(sample).ok()?;
        let found = self.samples.binary_search(&sample).ok()?;
        Some(self.difficulties[found])
    }

    /// Moves a cold start `state` onto this solution where it applies; per spread group
    /// of `layout`, whether it is new (its spread is then held at first, as in a cold
    /// fit).
    pub(crate) fn resume(
        &self,
        selection: &Selection,
        layout: &Layout,
        state: &mut State,
    ) -> Vec<bool> {
        for (local, &model) in layout.ranked_models.iter().enumerate() {
            if let Some(&skill) = self.skills.get(model as usize) {
                if skill.is_finite() {
                    state.parameters[local] = skill;
                }
            }
        }
        let mut set = |index: u32, value: f64| {
            if index != NONE && value.is_finite() {
                state.parameters[index as usize] = value;
            }
        };
        for (key, &index) in layout.location_key.iter().zip(&layout.location_parameter) {
            if let Some(&location) = self.locations.get(key) {
                set(index, location);
            }
        }
        let mut new_spreads = vec![false; layout.spread_key.len()];
        for (group, key) in layout.spread_key.iter().enumerate() {
            if layout.spread_parameter[group] == NONE {
                continue;
            }
            match self.hubs.get(key) {
                Some(hubs) => {
                    set(layout.scale_parameter[group], hubs.scale);
                    set(layout.spread_parameter[group], hubs.spread);
                    set(layout.measurer_parameter[group], hubs.measurer);
                }
                None => new_spreads[group] = true,
            }
        }
        for (position, item) in state.items.iter_mut().enumerate() {
            let sample = selection.sample(position);
            let group = layout.location[sample];
            if group == NONE {
                continue;
            }
            item.difficulty = match self.difficulty(sample) {
                Some(difficulty) if difficulty.is_finite() => difficulty,
                // A new sample starts at its stratum's location, where a cold fit
                // starts every sample.
                _ => match layout.location_parameter[group as usize] {
                    NONE => 0.0,
                    index => state.parameters[index as usize],
                },
            };
        }
        if layout.has_ties && self.tie > 0.0 {
            state.tie = self.tie;
        }
        let cells = &layout.deviations;
        for stratum in 0..cells.n_strata() {
            let key = layout.location_key[cells.location[stratum] as usize];
            for (local, &model) in layout.ranked_models.iter().enumerate() {
                if let Some(&value) = self.deviations.get(&(model, key)) {
                    state.deviations[stratum * cells.n + local] = value;
                }
            }
            let group = cells.spread[stratum] as usize;
            if let Some(&variance) = self.deviation_variance.get(&layout.spread_key[group]) {
                state.deviation_variance[group] = variance;
            }
        }
        new_spreads
    }
}

/// The first bytes of [`JointSolution::to_bytes`], then its format version: a new
/// layout gets a new number, and readers of the old one turn it down.
const MAGIC: &[u8] = b"onebench-joint-solution\0";
const FORMAT: u32 = 1;

fn sorted<K: Ord + Copy, V>(map: &HashMap<K, V>) -> Vec<(K, &V)> {
    let mut entries: Vec<(K, &V)> = map.iter().map(|(&key, value)| (key, value)).collect();
    entries.sort_unstable_by_key(|&(key, _)| key);
    entries
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&(len as u64).to_le_bytes());
}

fn put_f64(out: &mut Vec<u8>, value: f64) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_key(out: &mut Vec<u8>, (index, numeric): (u32, bool)) {
    put_u32(out, index);
    out.push(u8::from(numeric));
}

/// Little-endian fields off the front of a buffer; `None` once it runs short.
struct Reader<'b> {
    bytes: &'b [u8],
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn key(&mut self) -> Option<(u32, bool)> {
        let index = self.u32()?;
        match self.take(1)? {
            [0] => Some((index, false)),
            [1] => Some((index, true)),
            _ => None,
        }
    }

    /// A length, then that many items; a length longer than the bytes left is refused
    /// before anything is allocated for it.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let len = usize::try_from(u64::from_le_bytes(self.take(8)?.try_into().ok()?)).ok()?;
        if len > self.bytes.len() {
            return None;
        }
        (0..len).map(|_| item(self)).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;

    fn example() -> JointSolution {
        JointSolution {
            skills: vec![0.5, f64::NAN, -1.25],
            samples: vec![2, 7, 9],
            difficulties: vec![0.1, -0.2, 3.0],
            locations: HashMap::from([((0, false), 0.3), ((1, true), -0.4)]),
            hubs: HashMap::from([(
                (0, false),
                Hubs {
                    scale: f64::NAN,
                    spread: 0.7,
                    measurer: 0.05,
                },
            )]),
            tie: 0.2,
            deviations: HashMap::from([((0, (0, false)), 0.01), ((2, (1, true)), -0.02)]),
            deviation_variance: HashMap::from([((0, false), 0.09)]),
        }
    }

    /// Equal up to NaN (a model the fit did not rank), bit for bit.
    fn same(a: &JointSolution, b: &JointSolution) -> bool {
        a.to_bytes() == b.to_bytes()
            && a.skills
                .iter()
                .map(|x| x.to_bits())
                .eq(b.skills.iter().map(|x| x.to_bits()))
            && a.samples == b.samples
            && a.difficulties == b.difficulties
            && a.locations == b.locations
            && a.deviations == b.deviations
            && a.deviation_variance == b.deviation_variance
            && a.tie == b.tie
    }

    #[test]
    fn bytes_round_trip() {
        let solution = example();
        let bytes = solution.to_bytes();
        let back = JointSolution::from_bytes(&bytes).expect("reads its own bytes");
        assert!(same(&solution, &back));
        let empty = JointSolution::default();
        assert!(same(
            &empty,
            &JointSolution::from_bytes(&empty.to_bytes()).expect("reads an empty solution")
        ));
    }

    #[test]
    fn bytes_refuse_what_they_did_not_write() {
        let bytes = example().to_bytes();
        for cut in 0..bytes.len() {
            assert!(
                JointSolution::from_bytes(&bytes[..cut]).is_none(),
                "cut at {cut}"
            );
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(JointSolution::from_bytes(&padded).is_none());
        let mut other_format = bytes.clone();
        other_format[MAGIC.len()] += 1;
        assert!(JointSolution::from_bytes(&other_format).is_none());
        let mut huge = bytes.clone();
        let at = MAGIC.len() + 4;
        huge[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(JointSolution::from_bytes(&huge).is_none());
    }
}
