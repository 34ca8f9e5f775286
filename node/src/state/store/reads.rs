//! Reads of what the store holds: the canonical chain (head, headers by hash and number,
//! blocks, receipts, transaction locations, senders) and the state (accounts, storage, code).

use super::*;
use crate::state::tries::stored_slot_value;

impl Store {
    /// The head of the canonical chain.
    pub fn head(&self) -> Result<Header, StoreError> {
        let mut cached = self.head_cache();
        if let Some(head) = cached.as_ref() {
            return Ok(head.clone());
        }
        let raw = self.get(&keys::meta("head"))?.ok_or(StoreError::NotInitialized)?;
        let hash = B256::try_from(raw.as_ref()).map_err(|e| corrupt("head", e))?;
        let head = self.header(&hash)?.ok_or_else(|| corrupt("head", "header missing"))?;
        *cached = Some(head.clone());
        Ok(head)
    }

    /// A header by hash.
    pub fn header(&self, hash: &B256) -> Result<Option<Header>, StoreError> {
        self.get(&keys::hashed(keys::HEADER, hash))?
            .map(|raw| Header::decode(&raw).map_err(|e| corrupt("header", e)))
            .transpose()
    }

    /// The canonical block hash at `number`.
    pub fn canonical_hash(&self, number: u64) -> Result<Option<B256>, StoreError> {
        self.get(&keys::numbered(keys::CANONICAL, number))?
            .map(|raw| B256::try_from(raw.as_ref()).map_err(|e| corrupt("canonical", e)))
            .transpose()
    }

    /// The canonical header at `number`.
    pub fn header_by_number(&self, number: u64) -> Result<Option<Header>, StoreError> {
        match self.canonical_hash(number)? {
            Some(hash) => self.header(&hash),
            None => Ok(None),
        }
    }

    /// A whole block by hash.
    pub fn block(&self, hash: &B256) -> Result<Option<Block>, StoreError> {
        let Some(header) = self.header(hash)? else { return Ok(None) };
        let raw = self
            .value_at(&keys::hashed(keys::BODY, hash))?
            .ok_or_else(|| corrupt("body", "missing"))?;
        let r = list(&raw).map_err(|e| corrupt("body", e))?;
        let transactions = r
            .iter()
            .map(|item| SignedTransaction::from_body_item(&item))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt("body", e))?;
        Ok(Some(Block::new(header, transactions)))
    }

    /// The receipts of a block by hash.
    pub fn receipts(&self, hash: &B256) -> Result<Option<Vec<Receipt>>, StoreError> {
        let Some(raw) = self.value_at(&keys::hashed(keys::RECEIPTS, hash))? else {
            return Ok(None);
        };
        let r = list(&raw).map_err(|e| corrupt("receipts", e))?;
        r.iter()
            .map(|item| {
                let bytes = item.data().map_err(|e| corrupt("receipts", e))?;
                Receipt::decode_stored(bytes).map_err(|e| corrupt("receipts", e))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Where a canonical transaction is: block hash and index.
    pub fn tx_location(&self, tx: &B256) -> Result<Option<(B256, u32)>, StoreError> {
        let Some(raw) = self.get(&keys::hashed(keys::TX_LOOKUP, tx))? else { return Ok(None) };
        if raw.len() != 36 {
            return Err(corrupt("tx lookup", format!("{} bytes for transaction {tx}", raw.len())));
        }
        let hash = B256::from_slice(&raw[..32]);
        let index = u32::from_be_bytes([raw[32], raw[33], raw[34], raw[35]]);
        Ok(Some((hash, index)))
    }

    /// The senders of a committed block's transactions, in order, when they were stored.
    pub fn senders(&self, hash: &B256) -> Result<Option<Vec<Address>>, StoreError> {
        let Some(raw) = self.get(&keys::hashed(keys::SENDERS, hash))? else { return Ok(None) };
        if raw.len() % 20 != 0 {
            return Err(corrupt("senders", format!("{} bytes for block {hash}", raw.len())));
        }
        Ok(Some(raw.chunks(20).map(Address::from_slice).collect()))
    }

    /// An account at the head state.
    pub fn account(&self, address: &Address) -> Result<Option<AccountRecord>, StoreError> {
        self.get(&keys::account(address))?
            .map(|raw| {
                AccountRecord::decode(&raw).map_err(|e| corrupt(&format!("account {address}"), e))
            })
            .transpose()
    }

    /// A storage slot at the head state (zero when unset).
    pub fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StoreError> {
        self.storage_by_hashed(address, &keys::hashed_slot(slot))
    }

    /// A storage slot at the head state by its trie key, `keccak(slot)` (zero when unset).
    pub(crate) fn storage_by_hashed(
        &self,
        address: &Address,
        hashed: &B256,
    ) -> Result<U256, StoreError> {
        let key = keys::hashed_storage_at(address, hashed);
        let Some(raw) = self.get(&key)? else { return Ok(U256::ZERO) };
        stored_slot_value(&key, &raw)
    }

    /// Code by hash.
    pub fn code(&self, hash: &B256) -> Result<Option<Bytes>, StoreError> {
        Ok(self.get(&keys::code(hash))?.map(|raw| Bytes::copy_from_slice(&raw)))
    }

    pub(crate) fn all_accounts(&self) -> Result<BTreeMap<Address, AccountRecord>, StoreError> {
        let mut out = BTreeMap::new();
        for item in self.tree.scan_prefix([keys::ACCOUNT]) {
            let (k, v) = item?;
            let what = || format!("account under key 0x{}", hex::encode(&k));
            if k.len() != 21 {
                return Err(corrupt(&what(), "the key is not an address"));
            }
            let record = AccountRecord::decode(&v).map_err(|e| corrupt(&what(), e))?;
            out.insert(Address::from_slice(&k[1..]), record);
        }
        Ok(out)
    }
}
