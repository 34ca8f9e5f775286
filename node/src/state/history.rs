//! State at recent blocks: the head state with the changesets of the blocks after the wanted one
//! undone, newest first. Only as far back as changesets are kept.

use super::diff::Changeset;
use super::{keys, AccountRecord, Store, StoreError};
use crate::primitives::{Address, U256};

/// How many blocks back state can be read.
pub const HISTORY_BLOCKS: u64 = 128;

impl Store {
    fn changesets_after(&self, number: u64) -> Result<Option<Vec<Changeset>>, StoreError> {
        let head = self.head()?.number;
        if number > head {
            return Ok(None);
        }
        if head - number > HISTORY_BLOCKS {
            return Ok(None);
        }
        let mut sets = Vec::new();
        for n in (number + 1..=head).rev() {
            let raw = self
                .value_at(&keys::numbered(keys::CHANGESET, n))?
                .ok_or_else(|| StoreError::Corrupt(format!("changeset {n} missing")))?;
            sets.push(Changeset::decode(&raw)?);
        }
        Ok(Some(sets))
    }

    /// An account as it was after block `number`; `Ok(None)` in the outer option when that
    /// block is beyond the kept history (or not yet sealed).
    pub fn account_at(
        &self,
        address: &Address,
        number: u64,
    ) -> Result<Option<Option<AccountRecord>>, StoreError> {
        // The value before the changesets: a block committed in between is then undone from
        // its own changeset (read after it), never left in the value with no changeset read.
        let mut value = self.account(address)?;
        let Some(sets) = self.changesets_after(number)? else { return Ok(None) };
        for set in &sets {
            if let Some((_, prior)) = set.accounts.iter().find(|(a, _)| a == address) {
                value = *prior;
            }
        }
        Ok(Some(value))
    }

    /// A storage slot as it was after block `number` (`None` beyond the kept history).
    pub fn storage_at(
        &self,
        address: &Address,
        slot: &U256,
        number: u64,
    ) -> Result<Option<U256>, StoreError> {
        let hashed = keys::hashed_slot(slot);
        let mut value = self.storage_by_hashed(address, &hashed)?;
        let Some(sets) = self.changesets_after(number)? else { return Ok(None) };
        for set in &sets {
            let written = set.storage.iter().find(|(a, s, _)| a == address && s == slot);
            let prior = written.map(|(_, _, p)| p).or_else(|| {
                set.wiped.iter().find(|(a, h, _)| a == address && *h == hashed).map(|(_, _, p)| p)
            });
            if let Some(prior) = prior {
                value = *prior;
            }
        }
        Ok(Some(value))
    }
}
