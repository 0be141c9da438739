//! The within-batch duplicate check: a (sample, model) cell measured twice in one
//! batch's cardinal rows is an error (across batches, repeats are averaged).

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::state::State;
use super::validate::CardinalPart;
use crate::error::{Error, Result};

/// Largest (samples × models) bitset used for the duplicate check; beyond it, sort keys.
const BITSET_LIMIT_BITS: u64 = 1 << 31;

/// Rejects a (sample, model) cell measured twice within the batch's cardinal rows.
pub fn check_duplicates(parts: &[CardinalPart], state: &State) -> Result<()> {
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
    use crate::store::validate::validate;
    use crate::store::{CardinalBatch, ModelRecord, Pool, SampleRecord};
    use crate::store::{IdColumn, MeasurementBatch, Metric};

    fn record(id: &str) -> SampleRecord {
        SampleRecord {
            id: id.into(),
            benchmark: "b".into(),
            modality: "text".into(),
            text: id.into(),
            references: vec![],
            metadata: Default::default(),
            content_hash: String::new(),
            same_as: None,
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
