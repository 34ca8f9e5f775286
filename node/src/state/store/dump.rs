//! The database as a stream of entries, for backups: `[u32 key length][key][u32 value
//! length][value]…`, ended by a length of `u32::MAX`. A dump taken while nothing writes (the node
//! holds its chain lock) is a consistent copy; loading it into an empty store restores it. Bodies,
//! receipts and changesets kept in files travel as their bytes, not as pointers, so a backup
//! holds everything; loading puts the large ones back into the files.

use super::{Store, StoreError};
use std::io::{Read, Write};

const END: u32 = u32::MAX;
/// Longest key or value a dump may carry (a block body is far smaller).
const MAX_ENTRY: u32 = 64 * 1024 * 1024;

fn io(e: std::io::Error) -> StoreError {
    StoreError::Corrupt(format!("backup stream: {e}"))
}

impl Store {
    /// Writes every entry to `out`; returns how many.
    pub fn dump(&self, out: &mut impl Write) -> Result<u64, StoreError> {
        let mut count = 0;
        for entry in self.tree.iter() {
            let (k, v) = entry?;
            let v = self.resolved(&k, v)?;
            for part in [&k[..], &v[..]] {
                out.write_all(&(part.len() as u32).to_be_bytes()).map_err(io)?;
                out.write_all(part).map_err(io)?;
            }
            count += 1;
        }
        out.write_all(&END.to_be_bytes()).map_err(io)?;
        Ok(count)
    }

    /// Loads a dump into this store, which must be empty; returns how many entries.
    pub fn load(&self, input: &mut impl Read) -> Result<u64, StoreError> {
        if !self.tree.is_empty() {
            return Err(StoreError::Corrupt("restoring into a database that is not empty".into()));
        }
        let read_len = |input: &mut dyn Read| -> Result<u32, StoreError> {
            let mut len = [0u8; 4];
            input.read_exact(&mut len).map_err(io)?;
            Ok(u32::from_be_bytes(len))
        };
        let (mut count, mut batch) = (0u64, sled::Batch::default());
        loop {
            let klen = read_len(input)?;
            if klen == END {
                break;
            }
            let vlen = |len: u32| -> Result<usize, StoreError> {
                if len > MAX_ENTRY {
                    return Err(StoreError::Corrupt(format!("backup entry of {len} bytes")));
                }
                Ok(len as usize)
            };
            let mut key = vec![0; vlen(klen)?];
            input.read_exact(&mut key).map_err(io)?;
            let len = read_len(input)?;
            let mut value = vec![0; vlen(len)?];
            input.read_exact(&mut value).map_err(io)?;
            let value = self.stored_value(&key, value)?;
            batch.insert(key, value);
            count += 1;
            if count.is_multiple_of(10_000) {
                self.sync_files()?;
                self.tree.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        self.sync_files()?;
        self.tree.apply_batch(batch)?;
        self.flush()?;
        self.upgrade_format()?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_loads_into_an_empty_store_and_only_there() {
        let a = Store::temporary().expect("store");
        a.aux_write(
            &[(b"x".to_vec(), Some(b"1".to_vec())), (b"y".to_vec(), Some(vec![7; 3000]))],
            false,
        )
        .expect("write");
        let mut bytes = Vec::new();
        assert_eq!(a.dump(&mut bytes).expect("dump"), 2);
        let b = Store::temporary().expect("store");
        assert_eq!(b.load(&mut bytes.as_slice()).expect("load"), 2);
        assert_eq!(b.aux_get(b"y").expect("read"), Some(vec![7; 3000]));
        assert!(b.load(&mut bytes.as_slice()).is_err(), "not into a store that holds something");
        let c = Store::temporary().expect("store");
        assert!(c.load(&mut &bytes[..bytes.len() - 5]).is_err(), "a truncated dump is refused");
    }
}
