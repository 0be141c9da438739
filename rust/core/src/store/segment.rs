//! Immutable segment files: a fixed header, a payload and a CRC32 trailer.
//!
//! Layout (little-endian):
//! `magic[8] | format u32 | kind u32 | rows u64 | entries u64 | payload | crc32 u32`.
//! The CRC covers everything before it, so a flipped byte anywhere is caught; the
//! manifest also records the file's length and CRC, so a truncated or swapped file
//! is caught even if its own trailer happens to be consistent.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{Error, Result};

pub const MAGIC: &[u8; 8] = b"ONEBSEG\0";
pub const FORMAT_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 32;
pub const TRAILER_LEN: usize = 4;

/// Bytes of one cardinal row on disk: sample u32, model u32, value f32.
pub const CARDINAL_ROW: usize = 12;
/// Bytes of one pairwise row on disk: sample, a, b u32, outcome u8, probability f32.
pub const PAIRWISE_ROW: usize = 17;

/// What a segment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Samples,
    Models,
    Provenances,
    Cardinal,
    Pairwise,
    Rankings,
}

impl Kind {
    fn code(self) -> u32 {
        match self {
            Kind::Samples => 1,
            Kind::Models => 2,
            Kind::Provenances => 3,
            Kind::Cardinal => 4,
            Kind::Pairwise => 5,
            Kind::Rankings => 6,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Samples => "samples",
            Kind::Models => "models",
            Kind::Provenances => "provenances",
            Kind::Cardinal => "cardinal",
            Kind::Pairwise => "pairwise",
            Kind::Rankings => "rankings",
        }
    }
}

/// Streams one segment to disk, computing its CRC on the way.
pub struct SegmentWriter {
    path: PathBuf,
    writer: BufWriter<File>,
    hasher: crc32fast::Hasher,
    length: u64,
}

impl SegmentWriter {
    /// Creates `path` (replacing any orphan of the same name) and writes the header.
    /// `rows` and `entries` must be known up front because the CRC covers the header.
    pub fn create(path: &Path, kind: Kind, rows: u64, entries: u64) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut segment = SegmentWriter {
            path: path.to_path_buf(),
            writer: BufWriter::with_capacity(1 << 20, file),
            hasher: crc32fast::Hasher::new(),
            length: 0,
        };
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        header.extend_from_slice(&kind.code().to_le_bytes());
        header.extend_from_slice(&rows.to_le_bytes());
        header.extend_from_slice(&entries.to_le_bytes());
        segment.write(&header)?;
        Ok(segment)
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.length += bytes.len() as u64;
        self.writer
            .write_all(bytes)
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Writes the trailer and fsyncs; returns (length, crc) for the manifest.
    pub fn finish(mut self) -> Result<(u64, u32)> {
        let crc = self.hasher.clone().finalize();
        self.write(&crc.to_le_bytes())?;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        Ok((self.length, crc))
    }
}

/// A verified, memory-mapped segment. The payload is read in place, never copied.
#[derive(Debug)]
pub struct Segment {
    map: Mmap,
    pub rows: u64,
    pub entries: u64,
}

impl Segment {
    /// Maps `path` and checks it against the manifest's `length` and `crc` and its own
    /// header and trailer. `verify_crc = false` skips the full-content CRC for files
    /// this process has just written and fsynced.
    pub fn open(path: &Path, kind: Kind, length: u64, crc: u32, verify_crc: bool) -> Result<Self> {
        let corrupt = |reason: String| Error::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let file = File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => corrupt("file named by the manifest is missing".into()),
            _ => Error::io(path, e),
        })?;
        let actual = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if actual != length {
            return Err(corrupt(format!("length {actual}, manifest says {length}")));
        }
        if (length as usize) < HEADER_LEN + TRAILER_LEN {
            return Err(corrupt("shorter than a segment header".into()));
        }
        // Safety: segments are immutable once named by a manifest (writers never
        // rewrite a live file in place), so the mapping cannot change under us.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let body = &map[..map.len() - TRAILER_LEN];
        if verify_crc {
            let computed = crc32fast::hash(body);
            let stored = read_u32(&map, map.len() - TRAILER_LEN);
            if computed != stored || computed != crc {
                return Err(corrupt(format!(
                    "checksum mismatch (computed {computed:08x}, trailer {stored:08x}, manifest {crc:08x})"
                )));
            }
        }
        if &map[..8] != MAGIC {
            return Err(corrupt("bad magic".into()));
        }
        let format = read_u32(&map, 8);
        if format != FORMAT_VERSION {
            return Err(corrupt(format!("unsupported segment format {format}")));
        }
        if read_u32(&map, 12) != kind.code() {
            return Err(corrupt(format!("segment is not of kind {}", kind.name())));
        }
        Ok(Segment {
            rows: read_u64(&map, 16),
            entries: read_u64(&map, 24),
            map,
        })
    }

    /// Drops this process's resident copy of the mapped pages (best effort). Segments are
    /// read in whole passes (checksum, replay, dataset build); between passes holding
    /// their pages would double the resident memory of a pool whose measurements already
    /// live in the dataset. The page cache keeps them, so a later pass re-maps them cheaply.
    pub fn release_pages(&self) {
        self.release_payload(0, self.payload().len());
    }

    /// [`Segment::release_pages`] for `len` payload bytes from `offset` (a pass releases
    /// what it has read as it goes, so that it never holds a whole large segment).
    pub fn release_payload(&self, offset: usize, len: usize) {
        // Safety: the mapping is a read-only shared mapping of an immutable file, so
        // MADV_DONTNEED only drops resident pages; later reads fault them back in from the
        // file with the same contents, so no byte a live reference sees ever changes.
        #[cfg(unix)]
        let _ = unsafe {
            self.map.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                HEADER_LEN + offset,
                len,
            )
        };
    }

    /// The bytes between header and trailer.
    pub fn payload(&self) -> &[u8] {
        &self.map[HEADER_LEN..self.map.len() - TRAILER_LEN]
    }
}

pub fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

pub fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

pub fn read_f32(bytes: &[u8], at: usize) -> f32 {
    f32::from_bits(read_u32(bytes, at))
}

/// Decodes one cardinal row.
#[inline]
pub fn cardinal_row(row: &[u8]) -> (u32, u32, f32) {
    (read_u32(row, 0), read_u32(row, 4), read_f32(row, 8))
}

/// Decodes one pairwise row: (sample, a, b, outcome, probability_b).
#[inline]
pub fn pairwise_row(row: &[u8]) -> (u32, u32, u32, u8, f32) {
    (
        read_u32(row, 0),
        read_u32(row, 4),
        read_u32(row, 8),
        row[12],
        read_f32(row, 13),
    )
}

/// Encodes one pairwise row.
#[inline]
pub fn encode_pairwise(out: &mut [u8], row: (u32, u32, u32, u8, f32)) {
    out[0..4].copy_from_slice(&row.0.to_le_bytes());
    out[4..8].copy_from_slice(&row.1.to_le_bytes());
    out[8..12].copy_from_slice(&row.2.to_le_bytes());
    out[12] = row.3;
    out[13..17].copy_from_slice(&row.4.to_le_bytes());
}

/// A ranking segment's payload, viewed in place:
/// `samples u32[rows] | offsets u64[rows + 1] | models u32[entries] | positions u32[entries]`.
pub struct RankingView<'a> {
    pub rows: usize,
    pub entries: usize,
    bytes: &'a [u8],
}

impl<'a> RankingView<'a> {
    pub fn new(segment: &'a Segment) -> Self {
        RankingView {
            rows: segment.rows as usize,
            entries: segment.entries as usize,
            bytes: segment.payload(),
        }
    }

    pub fn payload_len(rows: usize, entries: usize) -> usize {
        rows * 4 + (rows + 1) * 8 + entries * 8
    }

    pub fn sample(&self, ranking: usize) -> u32 {
        read_u32(self.bytes, ranking * 4)
    }

    pub fn offset(&self, ranking: usize) -> u64 {
        read_u64(self.bytes, self.rows * 4 + ranking * 8)
    }

    pub fn model(&self, entry: usize) -> u32 {
        read_u32(self.bytes, self.rows * 12 + 8 + entry * 4)
    }

    pub fn position(&self, entry: usize) -> u32 {
        read_u32(
            self.bytes,
            self.rows * 12 + 8 + self.entries * 4 + entry * 4,
        )
    }
}
