//! Samples and models interned to dense u32 indexes in order of first insertion, and
//! the rules for adding to them (skip identical samples, merge model aliases).

// Ids are hashed millions of times on open; FxHash is several times faster than SipHash,
// and these maps hold our own data, not adversarial keys.
use rustc_hash::FxHashMap as HashMap;

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

/// Whether `character` must not appear in an id or a name: a control character (C0, DEL,
/// C1), a bidirectional control, or an invisible format character (zero-width space and
/// joiners, word joiner, soft hyphen, byte-order mark, line and paragraph separators). Any
/// of them lets imported data rewrite a terminal or make two names look alike.
fn is_hidden(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Refuses a new id or name holding a character of [`is_hidden`] (names already stored
/// stay readable: only what is added is checked).
pub fn check_name(field: &str, row: usize, what: &str, name: &str) -> Result<()> {
    match name.chars().find(|character| is_hidden(*character)) {
        None => Ok(()),
        Some(character) => Err(Error::invalid(
            field,
            Some(row),
            format!(
                "{what} {name:?} contains the control or invisible character U+{:04X}; ids \
                 and names must be printable",
                u32::from(character)
            ),
        )),
    }
}

/// The samples of a pool. A record with `same_as` set is another source's copy of a
/// sample (the same question, found by its content hash): it is kept, with its own id,
/// benchmark and metadata, as that sample's second provenance, and its id names the
/// sample it copies, so that both sources' measurements land on one sample.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// The samples themselves (records without `same_as`), by dense index.
    pub records: Vec<SampleRecord>,
    /// Every sample id and copy id to its sample's dense index.
    pub index: HashMap<String, u32>,
    /// The copies (records with `same_as`), in order of insertion.
    pub copies: Vec<SampleRecord>,
    /// Copy id to its position in `copies`.
    copy_index: HashMap<String, usize>,
}

/// Whether `copy` is `original` stored as a copy: equal but for `same_as`.
fn same_content(copy: &SampleRecord, original: &SampleRecord) -> bool {
    copy.id == original.id
        && copy.benchmark == original.benchmark
        && copy.modality == original.modality
        && copy.text == original.text
        && copy.references == original.references
        && copy.metadata == original.metadata
}

impl Samples {
    /// Adds a record that passed [`Samples::plan_add`] (or was read back from a segment
    /// whose copies were checked to name known samples). A copy whose sample is unknown
    /// cannot reach this point; it is ignored rather than indexed wrongly.
    pub fn push(&mut self, record: SampleRecord) {
        match &record.same_as {
            None => {
                self.index
                    .insert(record.id.clone(), self.records.len() as u32);
                self.records.push(record);
            }
            Some(target) => {
                if let Some(&index) = self.index.get(target) {
                    self.index.insert(record.id.clone(), index);
                    self.copy_index.insert(record.id.clone(), self.copies.len());
                    self.copies.push(record);
                }
            }
        }
    }

    /// The stored record named `id`: a sample or a copy.
    fn stored(&self, id: &str) -> Option<&SampleRecord> {
        match self.copy_index.get(id) {
            Some(&at) => self.copies.get(at),
            None => self
                .index
                .get(id)
                .and_then(|&index| self.records.get(index as usize)),
        }
    }

    /// Checks `incoming` against the pool and itself; returns the records to write
    /// (with the store's content hash, and `same_as` resolved to a sample id) and how
    /// many were skipped as already present. A plain record whose id is already stored
    /// as a copy with the same content counts as present.
    pub fn plan_add(&self, incoming: Vec<SampleRecord>) -> Result<(Vec<SampleRecord>, u64)> {
        let mut fresh: Vec<SampleRecord> = Vec::new();
        let mut fresh_index: HashMap<String, usize> = HashMap::default();
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
            if let Some(target) = record.same_as.take().filter(|target| !target.is_empty()) {
                record.same_as =
                    Some(self.resolve_target(&target, &record.id, row, &fresh, &fresh_index)?);
            }
            let existing = match self.stored(&record.id) {
                Some(existing) => Some(existing),
                None => fresh_index.get(&record.id).map(|&at| &fresh[at]),
            };
            match existing {
                Some(existing) if *existing == record => skipped += 1,
                Some(existing)
                    if existing.same_as.is_some()
                        && record.same_as.is_none()
                        && same_content(existing, &record) =>
                {
                    skipped += 1
                }
                Some(existing) => {
                    let stored = match &existing.same_as {
                        Some(target) => format!("as a copy of sample {target:?} "),
                        None => String::new(),
                    };
                    return Err(Error::invalid(
                        "id",
                        Some(row),
                        format!(
                            "sample {:?} already exists {stored}with different content",
                            record.id
                        ),
                    ));
                }
                None => {
                    check_name("id", row, "sample id", &record.id)?;
                    check_name("benchmark", row, "benchmark", &record.benchmark)?;
                    fresh_index.insert(record.id.clone(), fresh.len());
                    fresh.push(record);
                }
            }
        }
        Ok((fresh, skipped))
    }

    /// The sample id a copy's `same_as` names: a sample of the pool or of this batch,
    /// reached directly or through another copy.
    fn resolve_target(
        &self,
        target: &str,
        id: &str,
        row: usize,
        fresh: &[SampleRecord],
        fresh_index: &HashMap<String, usize>,
    ) -> Result<String> {
        let resolved = match self.index.get(target) {
            Some(&index) => self
                .records
                .get(index as usize)
                .map(|record| record.id.clone()),
            None => fresh_index.get(target).map(|&at| {
                let record = &fresh[at];
                record.same_as.clone().unwrap_or_else(|| record.id.clone())
            }),
        };
        match resolved {
            Some(sample) if sample == id => Err(Error::invalid(
                "same_as",
                Some(row),
                format!("sample {id:?} cannot be a copy of itself"),
            )),
            Some(sample) => Ok(sample),
            None => Err(Error::invalid(
                "same_as",
                Some(row),
                format!("sample {target:?} (of which {id:?} is a copy) is not in the pool"),
            )),
        }
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

    /// Applies one record being added to the pool: as [`Models::apply`], after refusing
    /// new ids and aliases that hold control or invisible characters.
    pub fn add(&mut self, record: &ModelRecord, row: usize) -> Result<bool> {
        if !self.names.contains_key(&record.id) {
            check_name("id", row, "model id", &record.id)?;
        }
        for alias in &record.aliases {
            if !self.names.contains_key(alias) {
                check_name("aliases", row, "alias", alias)?;
            }
        }
        self.apply(record, row)
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
