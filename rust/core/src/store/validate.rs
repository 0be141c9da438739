//! Validation of a measurement batch against the pool, before anything is written.
//!
//! Ids arrive dictionary-encoded, so each dictionary is resolved once and rows only map
//! codes. Every row check runs in parallel and reports the first failing row; the error
//! is then rebuilt for that one row, so the hot path never formats messages.

use std::sync::atomic::{AtomicU8, Ordering};

use rayon::prelude::*;

use super::duplicates::check_duplicates;
use super::ordinal::{validate_pairwise, validate_rankings};
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
    pub fn new(
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

    pub fn error(&self, row: usize) -> Error {
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

    pub fn check(&self, row: usize) -> Result<u32> {
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
pub struct Metrics<'s> {
    codes: Vec<AtomicU8>,
    pub state: &'s State,
}

impl Metrics<'_> {
    /// Claims `sample` for `metric` if it has none; true if its metric is `metric`.
    #[inline]
    pub fn claim(&self, sample: u32, metric: Metric) -> bool {
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

    pub fn error(&self, field: &str, row: usize, sample: u32, metric: Metric) -> Error {
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
pub fn first_error(rows: usize, check: impl Fn(usize) -> Result<()> + Sync) -> Result<()> {
    match (0..rows)
        .into_par_iter()
        .find_first(|&row| check(row).is_err())
    {
        Some(row) => check(row),
        None => Ok(()),
    }
}

pub fn same_length(field: &str, length: usize, expected: usize, of: &str) -> Result<()> {
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
