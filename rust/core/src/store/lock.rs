//! The writer lock: an advisory lock on `<pool>/LOCK`, held for the length of one
//! commit or compaction. Readers never take it: they read the manifest and immutable
//! segments, which a writer never changes in place.

use std::fs::{File, OpenOptions};
use std::path::Path;

use crate::error::{Error, Result};

pub const LOCK: &str = "LOCK";

/// Holds the lock until dropped (closing the file releases it, also when the
/// process dies, so a crashed writer never leaves the pool locked).
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Waits for the lock. Two handles in one process exclude each other too, because
    /// each opens its own file description.
    pub fn acquire(pool: &Path) -> Result<Self> {
        let path = pool.join(LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        file.lock().map_err(|e| Error::io(&path, e))?;
        Ok(WriterLock { _file: file })
    }
}
