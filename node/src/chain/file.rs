//! Chain files as `geth export` writes them: canonical blocks, RLP-encoded, one after another.

use super::{Chain, ImportError};
use crate::primitives::Block;
use crate::state::{Store, StoreError};
use std::io::Write;

/// Why a chain file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChainFileError {
    /// Reading or writing failed.
    #[error("chain file I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Bytes at `offset` are not a block.
    #[error("malformed block at byte {offset}: {reason}")]
    Malformed {
        /// Where the bad block starts.
        offset: usize,
        /// Why.
        reason: String,
    },
}

/// Writes canonical blocks `first..=last` to `out`; returns how many.
pub fn export(
    store: &Store,
    out: &mut impl Write,
    first: u64,
    last: u64,
) -> Result<u64, ChainFileError> {
    let mut count = 0;
    for number in first..=last {
        let Some(hash) = store.canonical_hash(number)? else { break };
        let block = store
            .block(&hash)?
            .ok_or_else(|| StoreError::Corrupt(format!("block {number} missing")))?;
        out.write_all(&block.encoded())?;
        count += 1;
    }
    out.flush()?;
    Ok(count)
}

/// Splits a chain file into blocks.
pub fn read_blocks(data: &[u8]) -> Result<Vec<Block>, ChainFileError> {
    let mut blocks = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let malformed = |reason: String| ChainFileError::Malformed { offset, reason };
        let info = rlp::PayloadInfo::from(&data[offset..]).map_err(|e| malformed(e.to_string()))?;
        let end = offset.checked_add(info.total()).filter(|end| *end <= data.len());
        let end = end.ok_or_else(|| malformed("truncated".into()))?;
        blocks.push(Block::decode(&data[offset..end]).map_err(|e| malformed(e.to_string()))?);
        offset = end;
    }
    Ok(blocks)
}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Blocks added to the chain.
    pub imported: u64,
    /// Blocks the chain already had (including the genesis).
    pub known: u64,
}

impl Chain {
    /// Imports `blocks` in order, skipping those already canonical; stops at the first bad one.
    pub fn import_blocks(
        &mut self,
        blocks: &[Block],
        now: u64,
    ) -> Result<ImportSummary, (ImportSummary, ImportError)> {
        let mut summary = ImportSummary::default();
        for block in blocks {
            let hash = block.header.hash();
            match self.store.canonical_hash(block.header.number) {
                Ok(Some(h)) if h == hash => {
                    summary.known += 1;
                    continue;
                }
                Err(e) => return Err((summary, e.into())),
                _ => {}
            }
            self.import(block, now).map_err(|e| (summary, e))?;
            summary.imported += 1;
        }
        Ok(summary)
    }
}
