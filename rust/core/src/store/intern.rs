//! Samples and models interned to dense u32 indexes in order of first insertion, and
//! the rules for adding to them (skip identical samples, merge model aliases).

use std::collections::HashMap;

use super::{ModelRecord, SampleRecord};
use crate::error::{Error, Result};

/// Hex FNV-1a (64-bit) of the text lower-cased with whitespace runs collapsed to one
/// space and trimmed, so that the same question from two sources hashes alike.
pub fn content_hash(text: &str) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    let mut first = true;
    for word in text.split_whitespace() {
        if !first {
            feed(b" ");
        }
        first = false;
        for character in word.chars().flat_map(char::to_lowercase) {
            let mut buffer = [0u8; 4];
            feed(character.encode_utf8(&mut buffer).as_bytes());
        }
    }
    format!("{hash:016x}")
}

#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub records: Vec<SampleRecord>,
    pub index: HashMap<String, u32>,
}

impl Samples {
    pub fn push(&mut self, record: SampleRecord) {
        self.index
            .insert(record.id.clone(), self.records.len() as u32);
        self.records.push(record);
    }

    /// Checks `incoming` against the pool and itself; returns the records to write
    /// (with the store's content hash) and how many were skipped as already present.
    pub fn plan_add(&self, incoming: Vec<SampleRecord>) -> Result<(Vec<SampleRecord>, u64)> {
        let mut fresh: Vec<SampleRecord> = Vec::new();
        let mut fresh_index: HashMap<String, usize> = HashMap::new();
        let mut skipped = 0u64;
        for (row, mut record) in incoming.into_iter().enumerate() {
            if record.id.is_empty() {
                return Err(Error::invalid("id", Some(row), "sample id is empty"));
            }
            if record.modality != "text" && record.modality != "image+text" {
                return Err(Error::invalid(
                    "modality",
                    Some(row),
                    format!(
                        "{:?} is neither \"text\" nor \"image+text\"",
                        record.modality
                    ),
                ));
            }
            record.content_hash = content_hash(&record.text);
            let existing = match self.index.get(&record.id) {
                Some(&index) => Some(&self.records[index as usize]),
                None => fresh_index.get(&record.id).map(|&at| &fresh[at]),
            };
            match existing {
                Some(existing) if *existing == record => skipped += 1,
                Some(_) => {
                    return Err(Error::invalid(
                        "id",
                        Some(row),
                        format!(
                            "sample {:?} already exists with different content",
                            record.id
                        ),
                    ))
                }
                None => {
                    fresh_index.insert(record.id.clone(), fresh.len());
                    fresh.push(record);
                }
            }
        }
        Ok((fresh, skipped))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Models {
    pub records: Vec<ModelRecord>,
    /// Every id and alias to its model's index.
    pub names: HashMap<String, u32>,
}

impl Models {
    pub fn resolve(&self, id_or_alias: &str) -> Option<u32> {
        self.names.get(id_or_alias).copied()
    }

    /// Applies one record: a new id becomes a new model; a known id gains the new
    /// aliases and metadata keys. Returns whether anything changed. `row` is only for
    /// the error message.
    pub fn apply(&mut self, record: &ModelRecord, row: usize) -> Result<bool> {
        if record.id.is_empty() {
            return Err(Error::invalid("id", Some(row), "model id is empty"));
        }
        let (index, mut changed) = match self.names.get(&record.id) {
            Some(&index) if self.records[index as usize].id == record.id => (index, false),
            Some(&index) => {
                return Err(Error::invalid(
                    "id",
                    Some(row),
                    format!(
                        "model id {:?} is already an alias of model {:?}",
                        record.id, self.records[index as usize].id
                    ),
                ))
            }
            None => {
                let index = self.records.len() as u32;
                self.names.insert(record.id.clone(), index);
                self.records.push(ModelRecord {
                    id: record.id.clone(),
                    aliases: Vec::new(),
                    metadata: Default::default(),
                });
                (index, true)
            }
        };
        for alias in &record.aliases {
            if alias.is_empty() {
                return Err(Error::invalid("aliases", Some(row), "alias is empty"));
            }
            match self.names.get(alias) {
                Some(&owner) if owner == index => {}
                Some(&owner) => {
                    return Err(Error::invalid(
                        "aliases",
                        Some(row),
                        format!(
                            "alias {alias:?} already names model {:?}",
                            self.records[owner as usize].id
                        ),
                    ))
                }
                None => {
                    self.names.insert(alias.clone(), index);
                    self.records[index as usize].aliases.push(alias.clone());
                    changed = true;
                }
            }
        }
        let model = &mut self.records[index as usize];
        for (key, value) in &record.metadata {
            if model.metadata.get(key) != Some(value) {
                model.metadata.insert(key.clone(), value.clone());
                changed = true;
            }
        }
        Ok(changed)
    }
}
