//! Clique proof-of-authority (EIP-225) as pure functions: seal hashes, sealing and signer
//! recovery, difficulty, the signer snapshot with its votes, and header validation rules; and
//! Ethereum's proof-of-stake header rules, under which its block fixtures are imported.

mod post_merge;
mod seal;
mod snapshot;
mod validate;

pub use post_merge::{next_excess_blob_gas, validate_post_merge, GAS_PER_BLOB};
pub use seal::{
    extra_signers, recover_signer, seal_hash, seal_header, EXTRA_SEAL, EXTRA_VANITY, NONCE_AUTH,
    NONCE_DROP,
};
pub use snapshot::Snapshot;
pub use validate::{next_base_fee, validate_header, ConsensusError, DIFF_IN_TURN, DIFF_NO_TURN};
