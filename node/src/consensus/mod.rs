//! Clique proof-of-authority (EIP-225) as pure functions: seal hashes, sealing and signer
//! recovery, difficulty, the signer snapshot with its votes, and header validation rules.

mod seal;
mod snapshot;
mod validate;

pub use seal::{
    extra_signers, recover_signer, seal_hash, seal_header, EXTRA_SEAL, EXTRA_VANITY, NONCE_AUTH,
    NONCE_DROP,
};
pub use snapshot::Snapshot;
pub use validate::{next_base_fee, validate_header, ConsensusError, DIFF_IN_TURN, DIFF_NO_TURN};
