//! Service data kept beside the chain in the same database (the meter outbox and state): keys
//! under their own prefix, written in atomic batches so a service's bookkeeping survives a
//! crash exactly as the chain does.

use super::{Store, StoreError};

const AUX: u8 = b'M';

/// Keys and values, in key order.
pub(crate) type Entries = Vec<(Vec<u8>, Vec<u8>)>;

fn key(k: &[u8]) -> Vec<u8> {
    [&[AUX][..], k].concat()
}

impl Store {
    /// A service value.
    pub fn aux_get(&self, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(key(k))?.map(|v| v.to_vec()))
    }

    /// Puts (`Some`) and deletes (`None`) service values in one atomic batch; `durable` waits
    /// until it is on disk.
    pub fn aux_write(
        &self,
        changes: &[(Vec<u8>, Option<Vec<u8>>)],
        durable: bool,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in changes {
            match v {
                Some(v) => batch.insert(key(k), v.as_slice()),
                None => batch.remove(key(k)),
            }
        }
        self.tree.apply_batch(batch)?;
        if durable {
            self.flush()?;
        }
        Ok(())
    }

    /// Service values whose key starts with `prefix`, in key order.
    pub fn aux_scan(&self, prefix: &[u8]) -> Result<Entries, StoreError> {
        self.tree
            .scan_prefix(key(prefix))
            .map(|kv| {
                let (k, v) = kv?;
                Ok((k[1..].to_vec(), v.to_vec()))
            })
            .collect()
    }

    /// At most `limit` service values with keys in `[start, end)`, in key order.
    pub fn aux_range(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Entries, StoreError> {
        self.tree
            .range(key(start)..key(end))
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                Ok((k[1..].to_vec(), v.to_vec()))
            })
            .collect()
    }

    /// At most `limit` service values with keys in `[start, end)`, the last ones, newest first.
    pub fn aux_range_last(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.tree
            .range(key(start)..key(end))
            .rev()
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                Ok((k[1..].to_vec(), v.to_vec()))
            })
            .collect()
    }
}
