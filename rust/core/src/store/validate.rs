//! Validation of a measurement batch against the pool, before anything is written.
//!
//! Ids arrive dictionary-encoded, so each dictionary is resolved once and rows only map
//! codes. Every row check runs in parallel and reports the first failing row; the error
//! is then rebuilt for that one row, so the hot path never formats messages.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use rayon::prelude::*;

use super::state::State;
use super::{IdColumn, MeasurementBatch, Metric};
use crate::error::{Error, Result};

/// A code that resolves to nothing.
pub const UNKNOWN: u32 = u32::MAX;

/// A dictionary resolved to pool indexes (`UNKNOWN` for ids the pool lacks).
pub struct Resolved<'a> {
    pub column: &'a IdColumn,
    pub indexes: Vec<u32>,
    field: String,
    kind: &'static str,
}

impl<'a> Resolved<'a> {
    fn new(
        column: &'a IdColumn,
        field: String,
        kind: &'static str,
        lookup: impl Fn(&str) -> Option<u32>,
    ) -> Self {
        let indexes = column
            .dictionary
            .iter()
            .map(|id| lookup(id).unwrap_or(UNKNOWN))
            .collect();
        Resolved {
            column,
            indexes,
            field,
            kind,
        }
    }

    /// The pool index of row `row`, or `UNKNOWN`.
    #[inline]
    pub fn get(&self, row: usize) -> u32 {
        self.indexes
            .get(self.column.codes[row] as usize)
            .copied()
            .unwrap_or(UNKNOWN)
    }

    fn error(&self, row: usize) -> Error {
        let code = self.column.codes[row] as usize;
        match self.column.dictionary.get(code) {
            Some(id) => Error::UnknownId {
                kind: self.kind,
                id: id.clone(),
                row: Some(row),
            },
            None => Error::invalid(
                &self.field,
                Some(row),
                format!(
                    "code {code} is outside the dictionary of {} ids",
                    self.column.dictionary.len()
                ),
            ),
        }
    }

    fn check(&self, row: usize) -> Result<u32> {
        match self.get(row) {
            UNKNOWN => Err(self.error(row)),
            index => Ok(index),
        }
    }
}

pub struct CardinalPart<'a> {
    pub samples: Resolved<'a>,
    pub models: Resolved<'a>,
    pub values: &'a [f64],
    pub metric: Metric,
}

pub struct PairwisePart<'a> {
    pub samples: Resolved<'a>,
    pub model_a: Resolved<'a>,
    pub model_b: Resolved<'a>,
    pub outcome: &'a [u8],
    pub probability_b: Option<&'a [f64]>,
}

pub struct RankingPart<'a> {
    pub samples: Resolved<'a>,
    pub offsets: &'a [u64],
    pub models: Resolved<'a>,
    pub positions: &'a [u32],
}

/// A batch that passed validation, with its ids resolved.
pub struct Plan<'a> {
    pub cardinal: Vec<CardinalPart<'a>>,
    pub pairwise: Option<PairwisePart<'a>>,
    pub rankings: Option<RankingPart<'a>>,
}

impl Plan<'_> {
    pub fn rows(&self) -> u64 {
        let cardinal: usize = self.cardinal.iter().map(|part| part.values.len()).sum();
        let pairwise = self.pairwise.as_ref().map_or(0, |part| part.outcome.len());
        let rankings = self
            .rankings
            .as_ref()
            .map_or(0, |part| part.samples.column.codes.len());
        (cardinal + pairwise + rankings) as u64
    }
}

fn metric_code(metric: Option<Metric>) -> u8 {
    match metric {
        None => 0,
        Some(Metric::Binary) => 1,
        Some(Metric::NumericHigher) => 2,
        Some(Metric::NumericLower) => 3,
        Some(Metric::Pairwise) => 4,
        Some(Metric::Ranking) => 5,
    }
}

pub fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Binary => "binary",
        Metric::NumericHigher => "numeric_higher",
        Metric::NumericLower => "numeric_lower",
        Metric::Pairwise => "pairwise",
        Metric::Ranking => "ranking",
    }
}

/// Each sample's metric as the batch proceeds: the pool's, else fixed by the first part
/// of this batch that measures it.
struct Metrics<'s> {
    codes: Vec<AtomicU8>,
    state: &'s State,
}

impl Metrics<'_> {
    /// Claims `sample` for `metric` if it has none; true if its metric is `metric`.
    #[inline]
    fn claim(&self, sample: u32, metric: Metric) -> bool {
        let code = metric_code(Some(metric));
        match self.codes[sample as usize].compare_exchange(
            0,
            code,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => true,
            Err(current) => current == code,
        }
    }

    fn error(&self, field: &str, row: usize, sample: u32, metric: Metric) -> Error {
        let id = &self.state.samples.records[sample as usize].id;
        let reason = match self.state.metrics.get(sample as usize).copied().flatten() {
            Some(existing) => format!("metric {} fixed by an earlier batch", metric_name(existing)),
            None => "another metric earlier in this batch".to_string(),
        };
        Error::invalid(
            field,
            Some(row),
            format!(
                "sample {id:?} has {reason}; this row is {}",
                metric_name(metric)
            ),
        )
    }
}

/// The first row (in order) for which `check` fails, then that row's error.
fn first_error(rows: usize, check: impl Fn(usize) -> Result<()> + Sync) -> Result<()> {
    match (0..rows)
        .into_par_iter()
        .find_first(|&row| check(row).is_err())
    {
        Some(row) => check(row),
        None => Ok(()),
    }
}

fn same_length(field: &str, length: usize, expected: usize, of: &str) -> Result<()> {
    if length == expected {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            None,
            format!("has {length} rows but {of} has {expected}"),
        ))
    }
}

/// Checks `batch` against `state`; nothing is written on error.
pub fn validate<'a>(state: &State, batch: &'a MeasurementBatch) -> Result<Plan<'a>> {
    let sample_lookup = |id: &str| state.samples.index.get(id).copied();
    let model_lookup = |id: &str| state.models.resolve(id);
    let metrics = Metrics {
        codes: state
            .metrics
            .iter()
            .map(|metric| AtomicU8::new(metric_code(*metric)))
            .collect(),
        state,
    };
    let mut plan = Plan {
        cardinal: Vec::new(),
        pairwise: None,
        rankings: None,
    };
    for (index, (part, metric)) in batch.cardinal.iter().enumerate() {
        let field = |column: &str| format!("cardinal[{index}].{column}");
        if !matches!(
            metric,
            Metric::Binary | Metric::NumericHigher | Metric::NumericLower
        ) {
            return Err(Error::invalid(
                field("metric"),
                None,
                "must be binary, numeric_higher or numeric_lower",
            ));
        }
        let rows = part.values.len();
        same_length(&field("samples"), part.samples.codes.len(), rows, "values")?;
        same_length(&field("models"), part.models.codes.len(), rows, "values")?;
        let cardinal = CardinalPart {
            samples: Resolved::new(&part.samples, field("samples"), "sample", sample_lookup),
            models: Resolved::new(&part.models, field("models"), "model", model_lookup),
            values: &part.values,
            metric: *metric,
        };
        let values_field = field("values");
        let samples_field = field("samples");
        first_error(rows, |row| {
            let sample = cardinal.samples.check(row)?;
            cardinal.models.check(row)?;
            let value = cardinal.values[row];
            if !value.is_finite() || !(value as f32).is_finite() {
                return Err(Error::invalid(
                    &values_field,
                    Some(row),
                    format!("{value} is not a finite 32-bit number"),
                ));
            }
            if *metric == Metric::Binary && value != 0.0 && value != 1.0 {
                return Err(Error::invalid(
                    &values_field,
                    Some(row),
                    format!("binary value {value} is not 0 or 1"),
                ));
            }
            if !metrics.claim(sample, *metric) {
                return Err(metrics.error(&samples_field, row, sample, *metric));
            }
            Ok(())
        })?;
        plan.cardinal.push(cardinal);
    }
    check_duplicates(&plan.cardinal, state)?;
    if let Some(part) = &batch.pairwise {
        plan.pairwise = Some(validate_pairwise(part, &metrics)?);
    }
    if let Some(part) = &batch.rankings {
        plan.rankings = Some(validate_rankings(part, &metrics)?);
    }
    Ok(plan)
}

fn validate_pairwise<'a>(
    part: &'a super::PairwiseBatch,
    metrics: &Metrics,
) -> Result<PairwisePart<'a>> {
    let state = metrics.state;
    let rows = part.outcome.len();
    same_length(
        "pairwise.samples",
        part.samples.codes.len(),
        rows,
        "outcome",
    )?;
    same_length(
        "pairwise.model_a",
        part.model_a.codes.len(),
        rows,
        "outcome",
    )?;
    same_length(
        "pairwise.model_b",
        part.model_b.codes.len(),
        rows,
        "outcome",
    )?;
    if let Some(probability) = &part.probability_b {
        same_length("pairwise.probability_b", probability.len(), rows, "outcome")?;
    }
    let pairwise = PairwisePart {
        samples: Resolved::new(&part.samples, "pairwise.samples".into(), "sample", |id| {
            state.samples.index.get(id).copied()
        }),
        model_a: Resolved::new(&part.model_a, "pairwise.model_a".into(), "model", |id| {
            state.models.resolve(id)
        }),
        model_b: Resolved::new(&part.model_b, "pairwise.model_b".into(), "model", |id| {
            state.models.resolve(id)
        }),
        outcome: &part.outcome,
        probability_b: part.probability_b.as_deref(),
    };
    first_error(rows, |row| {
        let sample = pairwise.samples.check(row)?;
        let a = pairwise.model_a.check(row)?;
        let b = pairwise.model_b.check(row)?;
        if a == b {
            let id = &state.models.records[a as usize].id;
            return Err(Error::invalid(
                "pairwise.model_b",
                Some(row),
                format!("model_a and model_b are both {id:?}"),
            ));
        }
        let outcome = pairwise.outcome[row];
        if outcome > 2 {
            return Err(Error::invalid(
                "pairwise.outcome",
                Some(row),
                format!("{outcome} is not 0 (a), 1 (b) or 2 (tie)"),
            ));
        }
        if let Some(probability) = pairwise.probability_b.map(|column| column[row]) {
            if !probability.is_nan() && !(0.0..=1.0).contains(&probability) {
                return Err(Error::invalid(
                    "pairwise.probability_b",
                    Some(row),
                    format!("{probability} is outside [0, 1]"),
                ));
            }
        }
        if !metrics.claim(sample, Metric::Pairwise) {
            return Err(metrics.error("pairwise.samples", row, sample, Metric::Pairwise));
        }
        Ok(())
    })?;
    Ok(pairwise)
}

fn validate_rankings<'a>(
    part: &'a super::RankingBatch,
    metrics: &Metrics,
) -> Result<RankingPart<'a>> {
    let state = metrics.state;
    let rankings = part.samples.codes.len();
    let entries = part.models.codes.len();
    same_length(
        "rankings.offsets",
        part.offsets.len(),
        rankings + 1,
        "samples plus one",
    )?;
    same_length(
        "rankings.positions",
        part.positions.len(),
        entries,
        "models",
    )?;
    if part.offsets.first() != Some(&0) || part.offsets.last() != Some(&(entries as u64)) {
        return Err(Error::invalid(
            "rankings.offsets",
            None,
            format!("must start at 0 and end at {entries}"),
        ));
    }
    let ranking = RankingPart {
        samples: Resolved::new(&part.samples, "rankings.samples".into(), "sample", |id| {
            state.samples.index.get(id).copied()
        }),
        offsets: &part.offsets,
        models: Resolved::new(&part.models, "rankings.models".into(), "model", |id| {
            state.models.resolve(id)
        }),
        positions: &part.positions,
    };
    first_error(rankings, |row| {
        let sample = ranking.samples.check(row)?;
        let (start, end) = (ranking.offsets[row], ranking.offsets[row + 1]);
        if end < start || end - start < 2 {
            return Err(Error::invalid(
                "rankings.offsets",
                Some(row),
                "a ranking needs at least 2 models",
            ));
        }
        let (start, end) = (start as usize, end as usize);
        let mut models = Vec::with_capacity(end - start);
        for entry in start..end {
            let model = ranking.models.get(entry);
            if model == UNKNOWN {
                return Err(match ranking.models.error(entry) {
                    Error::UnknownId { kind, id, .. } => Error::UnknownId {
                        kind,
                        id,
                        row: Some(row),
                    },
                    other => other,
                });
            }
            models.push(model);
        }
        models.sort_unstable();
        if let Some(pair) = models.windows(2).find(|pair| pair[0] == pair[1]) {
            let id = &state.models.records[pair[0] as usize].id;
            return Err(Error::invalid(
                "rankings.models",
                Some(row),
                format!("model {id:?} appears twice"),
            ));
        }
        if ranking.positions[start..end]
            .windows(2)
            .any(|pair| pair[1] < pair[0])
        {
            return Err(Error::invalid(
                "rankings.positions",
                Some(row),
                "positions must be non-decreasing",
            ));
        }
        if !metrics.claim(sample, Metric::Ranking) {
            return Err(metrics.error("rankings.samples", row, sample, Metric::Ranking));
        }
        Ok(())
    })?;
    Ok(ranking)
}

/// Largest (samples × models) bitset used for the duplicate check; beyond it, sort keys.
const BITSET_LIMIT_BITS: u64 = 1 << 31;

/// Rejects a (sample, model) cell measured twice within the batch's cardinal rows.
fn check_duplicates(parts: &[CardinalPart], state: &State) -> Result<()> {
    check_duplicates_within(parts, state, BITSET_LIMIT_BITS)
}

fn check_duplicates_within(parts: &[CardinalPart], state: &State, bitset_limit: u64) -> Result<()> {
    let n_models = state.models.records.len() as u64;
    let cells = state.samples.records.len() as u64 * n_models;
    let key = |part: &CardinalPart, row: usize| {
        u64::from(part.samples.get(row)) * n_models + u64::from(part.models.get(row))
    };
    let any_duplicate = if cells <= bitset_limit {
        // Test-and-set on an atomic bitset: one random access per row, no sort.
        let bits: Vec<AtomicU64> = (0..cells.div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
        parts.iter().any(|part| {
            (0..part.values.len()).into_par_iter().any(|row| {
                let cell = key(part, row);
                let mask = 1u64 << (cell % 64);
                bits[(cell / 64) as usize].fetch_or(mask, Ordering::Relaxed) & mask != 0
            })
        })
    } else {
        let mut keys: Vec<u64> = parts
            .iter()
            .flat_map(|part| (0..part.values.len()).map(move |row| key(part, row)))
            .collect();
        keys.par_sort_unstable();
        keys.windows(2).any(|pair| pair[0] == pair[1])
    };
    if !any_duplicate {
        return Ok(());
    }
    // Rare path: walk the rows in order to name the first repeat.
    let mut seen = std::collections::HashMap::new();
    for (index, part) in parts.iter().enumerate() {
        for row in 0..part.values.len() {
            if let Some((first_part, first_row)) = seen.insert(key(part, row), (index, row)) {
                let sample = &state.samples.records[part.samples.get(row) as usize].id;
                let model = &state.models.records[part.models.get(row) as usize].id;
                return Err(Error::invalid(
                    format!("cardinal[{index}].models"),
                    Some(row),
                    format!(
                        "({sample:?}, {model:?}) repeats cardinal[{first_part}] row {first_row}"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::{CardinalBatch, ModelRecord, Pool, SampleRecord};

    fn record(id: &str) -> SampleRecord {
        SampleRecord {
            id: id.into(),
            benchmark: "b".into(),
            modality: "text".into(),
            text: id.into(),
            references: vec![],
            metadata: Default::default(),
            content_hash: String::new(),
        }
    }

    /// The sort fallback (for pools too large for a bitset) finds the same repeat.
    #[test]
    fn duplicate_check_by_bitset_and_by_sort_agree() {
        let root = tempfile::tempdir().unwrap();
        let mut pool = Pool::create(&root.path().join("pool")).unwrap();
        pool.add_samples(vec![record("a"), record("b")]).unwrap();
        let models = ["x", "y"].map(|id| ModelRecord {
            id: id.into(),
            aliases: vec![],
            metadata: Default::default(),
        });
        pool.add_models(models.to_vec()).unwrap();
        let column = |codes: &[u32], dictionary: &[&str]| IdColumn {
            dictionary: dictionary.iter().map(|id| id.to_string()).collect(),
            codes: codes.to_vec(),
        };
        for (model_codes, expected) in [([0u32, 0, 0], Some(2)), ([0, 0, 1], None)] {
            let batch = MeasurementBatch {
                cardinal: vec![(
                    CardinalBatch {
                        samples: column(&[0, 1, 0], &["a", "b"]),
                        models: column(&model_codes, &["x", "y"]),
                        values: vec![1.0, 0.0, 1.0],
                    },
                    Metric::Binary,
                )],
                ..Default::default()
            };
            for limit in [BITSET_LIMIT_BITS, 0] {
                let plan = validate(&pool.state, &batch);
                let outcome = plan
                    .and_then(|plan| check_duplicates_within(&plan.cardinal, &pool.state, limit));
                match (outcome, expected) {
                    (Ok(()), None) => {}
                    (Err(Error::InvalidInput { row, .. }), Some(expected_row)) => {
                        assert_eq!(row, Some(expected_row))
                    }
                    (other, _) => panic!("limit {limit}: unexpected {other:?}"),
                }
            }
        }
    }
}
