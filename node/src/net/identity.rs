//! The node's p2p identity: a secp256k1 key in `<datadir>/daisee/nodekey` (hex, as geth writes
//! it, created on first run) that is both the libp2p peer id and the enode public key, and the
//! parsing of geth-style `enode://<pubkey>@ip:port` URLs into libp2p addresses.

use crate::primitives::{PrivateKey, B256};
use libp2p::identity::{self, secp256k1};
use libp2p::{Multiaddr, PeerId};
use std::path::Path;

/// Why the node key or a peer address cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The key file could not be read or written.
    #[error("node key {0}: {1}")]
    Io(String, std::io::Error),
    /// The key file does not hold a 32-byte hex key.
    #[error("node key {0} is not a hex secp256k1 private key")]
    BadKey(String),
    /// A peer address is neither a multiaddr nor an enode URL.
    #[error("invalid peer address {0:?}: {1}")]
    BadPeer(String, String),
}

/// A node key from its hex text (as geth's `--nodekeyhex` and nodekey files hold it);
/// `name` says where it came from in the error.
pub fn from_hex(text: &str, name: &str) -> Result<PrivateKey, IdentityError> {
    let text = zeroize::Zeroizing::new(text.trim().trim_start_matches("0x").to_string());
    let raw = zeroize::Zeroizing::new(
        hex::decode(text.as_bytes()).map_err(|_| IdentityError::BadKey(name.into()))?,
    );
    if raw.len() != 32 {
        return Err(IdentityError::BadKey(name.into()));
    }
    PrivateKey::from_bytes(&B256::from_slice(&raw)).map_err(|_| IdentityError::BadKey(name.into()))
}

/// Loads a node key file (`--nodekey`); it must exist.
pub fn load(path: &Path) -> Result<PrivateKey, IdentityError> {
    let name = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|e| IdentityError::Io(name.clone(), e))?;
    if metadata.len() > 1024 {
        return Err(IdentityError::BadKey(name));
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| IdentityError::Io(name.clone(), e))?,
    );
    from_hex(&text, &name)
}

/// Loads the node key, creating it on first run.
pub fn load_or_create(path: &Path) -> Result<PrivateKey, IdentityError> {
    let name = path.display().to_string();
    if path.exists() {
        return load(path);
    }
    let key = crate::accounts::random_key()
        .map_err(|e| IdentityError::Io(name.clone(), std::io::Error::other(e.to_string())))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| IdentityError::Io(name.clone(), e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| IdentityError::Io(name.clone(), e))?;
    std::io::Write::write_all(&mut file, hex::encode(key.to_bytes()).as_bytes())
        .map_err(|e| IdentityError::Io(name, e))?;
    Ok(key)
}

/// The libp2p identity of a node key.
pub fn keypair(key: &PrivateKey) -> identity::Keypair {
    let mut bytes = key.to_bytes().0;
    let secret = secp256k1::SecretKey::try_from_bytes(&mut bytes).expect("a valid secp256k1 key");
    identity::Keypair::from(secp256k1::Keypair::from(secret))
}

/// The 64-byte public key of an enode URL, in hex.
pub fn enode_id(keypair: &identity::Keypair) -> String {
    let public = keypair.public().try_into_secp256k1().expect("a secp256k1 identity");
    hex::encode(&public.to_bytes_uncompressed()[1..])
}

/// Reads a peer address: a multiaddr with `/p2p/<peer id>`, or `enode://<pubkey>@ip:port`.
pub fn parse_peer(text: &str) -> Result<(PeerId, Multiaddr), IdentityError> {
    let bad = |why: &str| IdentityError::BadPeer(text.to_string(), why.to_string());
    if let Some(rest) = text.strip_prefix("enode://") {
        let (id, host) =
            rest.split_once('@').ok_or_else(|| bad("expected <pubkey>@<ip>:<port>"))?;
        let host = host.split('?').next().unwrap_or(host);
        let raw = hex::decode(id).map_err(|_| bad("the public key is not hex"))?;
        if raw.len() != 64 {
            return Err(bad("the public key must be 64 bytes"));
        }
        let public = secp256k1::PublicKey::try_from_bytes(&[&[4u8][..], &raw].concat())
            .map_err(|e| bad(&e.to_string()))?;
        let peer = PeerId::from_public_key(&identity::PublicKey::from(public));
        let addr: std::net::SocketAddr = host.parse().map_err(|_| bad("expected ip:port"))?;
        let proto = if addr.is_ipv4() { "ip4" } else { "ip6" };
        let multiaddr: Multiaddr = format!("/{proto}/{}/tcp/{}", addr.ip(), addr.port())
            .parse()
            .map_err(|_| bad("bad address"))?;
        return Ok((peer, multiaddr));
    }
    let multiaddr: Multiaddr =
        text.parse().map_err(|e: libp2p::multiaddr::Error| bad(&e.to_string()))?;
    let peer = multiaddr
        .iter()
        .find_map(|p| match p {
            libp2p::multiaddr::Protocol::P2p(id) => Some(id),
            _ => None,
        })
        .ok_or_else(|| bad("the multiaddr has no /p2p/<peer id>"))?;
    Ok((peer, multiaddr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enode_and_multiaddr_name_the_same_peer() {
        let key = PrivateKey::from_bytes(&B256::repeat_byte(9)).unwrap();
        let kp = keypair(&key);
        let enode = format!("enode://{}@127.0.0.1:30303", enode_id(&kp));
        let (peer, addr) = parse_peer(&enode).unwrap();
        assert_eq!(peer, kp.public().to_peer_id());
        assert_eq!(addr.to_string(), "/ip4/127.0.0.1/tcp/30303");
        let full = format!("/ip4/127.0.0.1/tcp/30303/p2p/{peer}");
        assert_eq!(parse_peer(&full).unwrap().0, peer);
        assert!(parse_peer("enode://zz@1.2.3.4:5").is_err());
        assert!(parse_peer("/ip4/127.0.0.1/tcp/1").is_err());
    }

    #[test]
    fn node_key_is_created_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("daisee-nodekey-{}", std::process::id()));
        let path = dir.join("nodekey");
        let first = load_or_create(&path).unwrap();
        assert_eq!(load_or_create(&path).unwrap().address(), first.address());
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn node_keys_come_from_hex_or_a_file_as_geth_writes_them() {
        let hex = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
        let key = from_hex(hex, "--nodekeyhex").unwrap();
        assert_eq!(from_hex(&format!("0x{hex}\n"), "x").unwrap().address(), key.address());
        for bad in ["", "zz", "00", &"00".repeat(32)] {
            assert!(from_hex(bad, "--nodekeyhex").is_err(), "{bad:?}");
        }
        let path = std::env::temp_dir().join(format!("daisee-nodekey-{}", std::process::id()));
        std::fs::write(&path, hex).unwrap();
        assert_eq!(load(&path).unwrap().address(), key.address());
        std::fs::write(&path, "a".repeat(4096)).unwrap();
        assert!(load(&path).is_err(), "a large file is not read");
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(load(&path), Err(IdentityError::Io(..))), "--nodekey must exist");
    }
}
