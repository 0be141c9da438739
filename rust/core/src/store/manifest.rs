//! The MANIFEST: the one mutable file of a pool. It names every live segment of a
//! version, in commit order, with its length and CRC. It is replaced atomically
//! (write a temporary file, fsync, rename, fsync the directory), so a reader sees
//! either the old version or the new one, and a crash before the rename leaves the
//! old version intact: segments written for a torn commit are simply not named.
//!
//! File layout: the manifest as one JSON line, then `crc32 <hex>` of that line.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::segment::Kind;
use super::Metric;
use crate::error::{Error, Result};

pub const MANIFEST: &str = "MANIFEST";
const MANIFEST_TEMPORARY: &str = "MANIFEST.tmp";
const MANIFEST_FORMAT: u32 = 1;

/// A run of rows of a measurement segment that share provenance (and, for cardinal
/// rows, metric): rows `start..` up to the next run's start.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Run {
    pub start: u64,
    pub provenance: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SegmentEntry {
    pub name: String,
    pub kind: Kind,
    pub length: u64,
    pub crc: u32,
    /// Records (samples, models, provenances) or measurement rows (rankings for
    /// ranking segments).
    pub rows: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Run>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub version: u64,
    pub segments: Vec<SegmentEntry>,
}

impl Manifest {
    pub fn empty() -> Self {
        Manifest {
            format: MANIFEST_FORMAT,
            version: 0,
            segments: Vec::new(),
        }
    }

    /// Reads and verifies `<pool>/MANIFEST`.
    pub fn read(pool: &Path) -> Result<Self> {
        let path = pool.join(MANIFEST);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotAPool {
                path: pool.to_path_buf(),
                reason: "no MANIFEST: not a onebench pool".into(),
            },
            _ => Error::io(&path, e),
        })?;
        let corrupt = |reason: &str| Error::Corrupt {
            path: path.clone(),
            reason: reason.into(),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| corrupt("not UTF-8"))?;
        let mut lines = text.split('\n');
        let body = lines.next().unwrap_or_default();
        let checksum_line = lines
            .next()
            .ok_or_else(|| corrupt("truncated: no checksum line"))?;
        let stored = checksum_line
            .strip_prefix("crc32 ")
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .ok_or_else(|| corrupt("truncated or malformed checksum line"))?;
        if crc32fast::hash(body.as_bytes()) != stored {
            return Err(corrupt("checksum mismatch"));
        }
        let manifest: Manifest =
            serde_json::from_str(body).map_err(|e| corrupt(&format!("bad JSON: {e}")))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(corrupt(&format!("unsupported format {}", manifest.format)));
        }
        Ok(manifest)
    }

    /// Replaces `<pool>/MANIFEST` atomically with this manifest.
    pub fn write(&self, pool: &Path) -> Result<()> {
        let temporary = pool.join(MANIFEST_TEMPORARY);
        let body = serde_json::to_string(self).map_err(|e| Error::Corrupt {
            path: temporary.clone(),
            reason: format!("cannot encode manifest: {e}"),
        })?;
        let text = format!("{body}\ncrc32 {:08x}\n", crc32fast::hash(body.as_bytes()));
        let mut file = File::create(&temporary).map_err(|e| Error::io(&temporary, e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| Error::io(&temporary, e))?;
        file.sync_all().map_err(|e| Error::io(&temporary, e))?;
        drop(file);
        let path = pool.join(MANIFEST);
        std::fs::rename(&temporary, &path).map_err(|e| Error::io(&path, e))?;
        sync_directory(pool)
    }

    pub fn is_live(&self, name: &str) -> bool {
        self.segments.iter().any(|segment| segment.name == name)
    }

    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|segment| segment.length).sum()
    }
}

/// Makes renames and new directory entries durable.
pub fn sync_directory(pool: &Path) -> Result<()> {
    File::open(pool)
        .and_then(|directory| directory.sync_all())
        .map_err(|e| Error::io(pool, e))
}
