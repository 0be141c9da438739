//! Which benchmark and which stratum each sample belongs to, as dense indexes.

use std::collections::HashMap;

use super::SampleRecord;

/// The metadata keys that split a benchmark into strata of samples that the benchmark
/// itself declares to differ (in subject or in difficulty).
const STRATUM_KEYS: [&str; 3] = ["category", "subject", "difficulty"];

/// One stratum key's value. Strings are borrowed, other JSON values kept as their JSON text,
/// so that the string "1" and the number 1 stay apart.
#[derive(PartialEq, Eq, Hash)]
enum StratumValue<'a> {
    Missing,
    Text(&'a str),
    Other(String),
}

/// Dense benchmark and stratum indexes per sample, numbered in order of first use.
pub fn sample_groups(records: &[SampleRecord]) -> (Vec<u32>, Vec<u32>) {
    let mut benchmark_index: HashMap<&str, u32> = HashMap::new();
    let mut stratum_index: HashMap<(u32, [StratumValue<'_>; 3]), u32> = HashMap::new();
    let mut benchmarks = Vec::with_capacity(records.len());
    let mut strata = Vec::with_capacity(records.len());
    for record in records {
        let next = benchmark_index.len() as u32;
        let benchmark = *benchmark_index
            .entry(record.benchmark.as_str())
            .or_insert(next);
        let key = STRATUM_KEYS.map(|key| match record.metadata.get(key) {
            None => StratumValue::Missing,
            Some(serde_json::Value::String(text)) => StratumValue::Text(text),
            Some(value) => StratumValue::Other(value.to_string()),
        });
        let next = stratum_index.len() as u32;
        strata.push(*stratum_index.entry((benchmark, key)).or_insert(next));
        benchmarks.push(benchmark);
    }
    (benchmarks, strata)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(benchmark: &str, metadata: serde_json::Value) -> SampleRecord {
        let metadata = match metadata {
            serde_json::Value::Object(map) => map.into_iter().collect(),
            _ => Default::default(),
        };
        SampleRecord {
            id: String::new(),
            benchmark: benchmark.to_string(),
            modality: "text".to_string(),
            text: String::new(),
            references: Vec::new(),
            metadata,
            content_hash: String::new(),
            same_as: None,
        }
    }

    #[test]
    fn strata_tell_strings_from_other_values_and_from_missing_keys() {
        use serde_json::json;
        let records = [
            sample("a", json!({"difficulty": "1"})),
            sample("a", json!({"difficulty": 1})),
            sample("a", json!({"difficulty": ""})),
            sample("a", json!({})),
            sample("a", json!({"difficulty": 1, "note": "not a stratum key"})),
            sample("b", json!({"difficulty": "1"})),
            sample("a", json!({"category": "1"})),
            sample("a", json!({"difficulty": "1"})),
        ];
        let (benchmarks, strata) = sample_groups(&records);
        assert_eq!(benchmarks, [0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(strata, [0, 1, 2, 3, 1, 4, 5, 0]);
    }
}
