//! The bodies of the fuzz targets, one per door that reads bytes from outside: shared by the
//! bounded property tests (`cargo test --test fuzz`, in CI) and the `cargo fuzz` targets
//! (`node/fuzz/`, for long runs). Each takes arbitrary bytes and must neither panic nor grow
//! without bound; where an input decodes, it must also encode back to itself.
#![allow(dead_code)]

use daisee_node::net::{SyncRequest, SyncResponse};
use daisee_node::primitives::{Block, Header, SignedTransaction};
use daisee_radio::source::FrameFilter;
use daisee_radio::{Measurement, SensorKey};

/// A transaction in its canonical encoding (RLP, typed envelopes), as RPC and gossip take it.
pub fn transaction(data: &[u8]) {
    if let Ok(tx) = SignedTransaction::decode(data) {
        let again = SignedTransaction::decode(tx.encoded()).expect("a decoded tx re-decodes");
        assert_eq!(again.hash(), tx.hash(), "encoding round trip");
        let _ = tx.recover_sender();
    }
}

/// A block and a header (RLP), as gossip, sync and `daisee import` take them.
pub fn block(data: &[u8]) {
    if let Ok(block) = Block::decode(data) {
        let again = Block::decode(&block.encoded()).expect("a decoded block re-decodes");
        assert_eq!(again.header.hash(), block.header.hash(), "encoding round trip");
    }
    if let Ok(header) = Header::decode(data) {
        assert_eq!(Header::decode(&header.encoded()).map(|h| h.hash()).ok(), Some(header.hash()));
    }
}

/// A sync request or answer (JSON, as the request-response codec reads it), and the blocks an
/// answer carries, decoded as the node does.
pub fn sync_message(data: &[u8]) {
    let _ = serde_json::from_slice::<SyncRequest>(data);
    if let Ok(SyncResponse::Blocks(blocks)) = serde_json::from_slice::<SyncResponse>(data) {
        for hex_block in blocks.iter().take(128) {
            if let Ok(bytes) = hex::decode(hex_block) {
                block(&bytes);
            }
        }
    }
}

/// Radio frames: the first 16 bytes are the key, the rest frames received 1 s apart, fed to
/// the decoder, the frame filter (timer rule, plausibility) and the serial resynchroniser in
/// chunks whose sizes the data chooses.
pub fn radio(data: &[u8]) {
    if data.len() < 16 {
        return;
    }
    let mut key = [0u8; 16];
    key.copy_from_slice(&data[..16]);
    let key = SensorKey::new(key);
    let rest = &data[16..];
    let mut filter = FrameFilter::new(key.clone());
    for (i, frame) in rest.chunks(16).enumerate() {
        let _ = Measurement::decode(frame, &key);
        let _ = filter.frame(frame, 1_700_000_000_000 + 1000 * i as u64);
    }
    let mut stream = daisee_radio::serial::FrameStream::new(key);
    let mut at = 0;
    while at < rest.len() {
        let size = usize::from(rest[at] % 40) + 1;
        let end = (at + size).min(rest.len());
        let _ = stream.push(&rest[at..end]);
        at = end;
    }
}

/// A keystore file's text, decrypted with a password.
pub fn keystore(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = daisee_node::accounts::decrypt_key(&text, "password");
}
