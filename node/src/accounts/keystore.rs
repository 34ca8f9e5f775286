//! Web3 Secret Storage (keystore v3) files as go-ethereum writes them: scrypt or pbkdf2 key
//! derivation, aes-128-ctr, keccak MAC; files named `UTC--<time>--<address>` with mode 0600 in
//! a folder of mode 0700. A file is read only when small, its key derivation only when its cost
//! is bounded (a crafted file cannot exhaust memory or time), and derived keys and decrypted
//! bytes are wiped from memory after use.

use crate::primitives::{keccak256, Address, PrivateKey, B256};
use aes::cipher::{KeyIvInit, StreamCipher};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// Largest keystore file read (geth's are about 500 bytes).
const MAX_KEYFILE_BYTES: u64 = 64 * 1024;
/// Most memory an scrypt derivation may take: 128·r·n bytes (geth's standard 2^18·8: 256 MiB).
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;
/// Most work an scrypt derivation may take: n·r·p (geth's standard: 2^21).
const MAX_SCRYPT_WORK: u64 = 1 << 23;
/// Most pbkdf2 iterations (geth writes 262,144).
const MAX_PBKDF2_ROUNDS: u64 = 10_000_000;
/// Longest salt accepted.
const MAX_SALT_BYTES: usize = 1024;

/// Why a keystore file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// Reading or writing the file failed.
    #[error("keystore I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not a keystore v3 file.
    #[error("invalid keystore file: {0}")]
    Format(String),
    /// The MAC does not match: wrong password (or a damaged file).
    #[error("could not decrypt key with given password")]
    WrongPassword,
    /// No keystore file holds that address.
    #[error("no key for address {0} in {1}")]
    NotFound(Address, PathBuf),
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    address: Option<String>,
    crypto: Crypto,
    version: u32,
}

#[derive(Serialize, Deserialize)]
struct Crypto {
    cipher: String,
    ciphertext: String,
    cipherparams: CipherParams,
    kdf: String,
    kdfparams: serde_json::Value,
    mac: String,
}

#[derive(Serialize, Deserialize)]
struct CipherParams {
    iv: String,
}

fn unhex(field: &str, v: &str) -> Result<Vec<u8>, KeystoreError> {
    hex::decode(v.trim_start_matches("0x"))
        .map_err(|e| KeystoreError::Format(format!("{field}: {e}")))
}

fn param(p: &serde_json::Value, name: &str) -> Result<u64, KeystoreError> {
    p[name].as_u64().ok_or_else(|| KeystoreError::Format(format!("kdfparams.{name} missing")))
}

fn derive(
    kdf: &str,
    p: &serde_json::Value,
    password: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, KeystoreError> {
    let salt = unhex("salt", p["salt"].as_str().unwrap_or_default())?;
    if salt.len() > MAX_SALT_BYTES {
        return Err(KeystoreError::Format(format!("salt of {} bytes", salt.len())));
    }
    let dklen = param(p, "dklen")?;
    if dklen != 32 {
        return Err(KeystoreError::Format(format!("dklen {dklen}: keystore v3 keys are 32 bytes")));
    }
    let mut key = zeroize::Zeroizing::new(vec![0u8; 32]);
    let dklen = 32;
    match kdf {
        "scrypt" => {
            let n = param(p, "n")?;
            if !n.is_power_of_two() || n < 2 {
                return Err(KeystoreError::Format("scrypt n must be a power of two".into()));
            }
            let (r, par) = (param(p, "r")?, param(p, "p")?);
            let memory = 128u128 * u128::from(r) * u128::from(n);
            let work = u128::from(n) * u128::from(r) * u128::from(par);
            if r == 0 || par == 0 || memory > u128::from(MAX_SCRYPT_MEMORY) {
                return Err(KeystoreError::Format(format!(
                    "scrypt n={n} r={r} p={par} needs {} MiB, at most {} allowed",
                    memory / (1024 * 1024),
                    MAX_SCRYPT_MEMORY / (1024 * 1024)
                )));
            }
            if work > u128::from(MAX_SCRYPT_WORK) {
                return Err(KeystoreError::Format(format!(
                    "scrypt n={n} r={r} p={par} costs more than this node derives (n·r·p ≤ 2^23)"
                )));
            }
            match scrypt::Params::new(n.trailing_zeros() as u8, r as u32, par as u32, dklen) {
                Ok(params) => scrypt::scrypt(password, &salt, &params, &mut key)
                    .map_err(|e| KeystoreError::Format(format!("scrypt: {e}")))?,
                // Parameters geth accepts but RFC 7914's n < 2^(16r) rule (and the crate) refuse.
                Err(_) => super::scrypt_compat::scrypt(
                    password,
                    &salt,
                    n as usize,
                    r as usize,
                    par as usize,
                    &mut key,
                ),
            }
        }
        "pbkdf2" => {
            if p["prf"].as_str() != Some("hmac-sha256") {
                return Err(KeystoreError::Format("pbkdf2 prf must be hmac-sha256".into()));
            }
            let rounds = param(p, "c")?;
            if rounds == 0 || rounds > MAX_PBKDF2_ROUNDS {
                return Err(KeystoreError::Format(format!(
                    "pbkdf2 c={rounds}, between 1 and {MAX_PBKDF2_ROUNDS} allowed"
                )));
            }
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &salt, rounds as u32, &mut key);
        }
        other => return Err(KeystoreError::Format(format!("unsupported kdf {other}"))),
    }
    Ok(key)
}

/// Decrypts a keystore file's JSON text with `password`.
pub fn decrypt_key(json_text: &str, password: &str) -> Result<PrivateKey, KeystoreError> {
    let file: KeyFile =
        serde_json::from_str(json_text).map_err(|e| KeystoreError::Format(e.to_string()))?;
    if file.version != 3 {
        return Err(KeystoreError::Format(format!("version {} is not 3", file.version)));
    }
    let c = &file.crypto;
    if c.cipher != "aes-128-ctr" {
        return Err(KeystoreError::Format(format!("unsupported cipher {}", c.cipher)));
    }
    let mut ciphertext = zeroize::Zeroizing::new(unhex("ciphertext", &c.ciphertext)?);
    if ciphertext.len() != 32 {
        return Err(KeystoreError::Format("ciphertext is not 32 bytes".into()));
    }
    let iv = unhex("iv", &c.cipherparams.iv)?;
    if iv.len() != 16 {
        return Err(KeystoreError::Format("iv is not 16 bytes".into()));
    }
    let derived = derive(&c.kdf, &c.kdfparams, password.as_bytes())?;
    let mac = keccak256([&derived[16..32], &ciphertext[..]].concat());
    if mac.as_slice() != unhex("mac", &c.mac)?.as_slice() {
        return Err(KeystoreError::WrongPassword);
    }
    let mut cipher = Aes128Ctr::new_from_slices(&derived[..16], &iv)
        .map_err(|e| KeystoreError::Format(format!("iv: {e}")))?;
    cipher.apply_keystream(&mut ciphertext);
    PrivateKey::from_bytes(&B256::from_slice(&ciphertext))
        .map_err(|e| KeystoreError::Format(e.to_string()))
}

fn random<const N: usize>() -> Result<[u8; N], KeystoreError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| KeystoreError::Io(std::io::Error::other(e.to_string())))?;
    Ok(buf)
}

/// A fresh random private key.
pub fn random_key() -> Result<PrivateKey, KeystoreError> {
    loop {
        if let Ok(key) = PrivateKey::from_bytes(&B256::from(random::<32>()?)) {
            return Ok(key);
        }
    }
}

/// Encrypts `key` with `password` (scrypt n = 2^`log_n`, r 8, p 1) as keystore v3 JSON.
pub fn encrypt_key(key: &PrivateKey, password: &str, log_n: u8) -> Result<String, KeystoreError> {
    let salt = random::<32>()?;
    let iv = random::<16>()?;
    let n = 1u64 << log_n;
    let kdfparams = json!({"n": n, "r": 8, "p": 1, "dklen": 32, "salt": hex::encode(salt)});
    let derived = derive("scrypt", &kdfparams, password.as_bytes())?;
    let mut ciphertext = zeroize::Zeroizing::new(key.to_bytes().to_vec());
    let mut cipher = Aes128Ctr::new_from_slices(&derived[..16], &iv)
        .map_err(|e| KeystoreError::Format(format!("iv: {e}")))?;
    cipher.apply_keystream(&mut ciphertext);
    let mac = keccak256([&derived[16..32], &ciphertext[..]].concat());
    let uuid = random::<16>()?;
    let id = format!(
        "{}-{}-4{}-{}-{}",
        hex::encode(&uuid[..4]),
        hex::encode(&uuid[4..6]),
        &hex::encode(&uuid[6..8])[1..],
        hex::encode(&uuid[8..10]),
        hex::encode(&uuid[10..])
    );
    let out = json!({
        "address": hex::encode(key.address()),
        "crypto": {
            "cipher": "aes-128-ctr",
            "ciphertext": hex::encode(&ciphertext),
            "cipherparams": {"iv": hex::encode(iv)},
            "kdf": "scrypt",
            "kdfparams": kdfparams,
            "mac": hex::encode(mac),
        },
        "id": id,
        "version": 3,
    });
    Ok(out.to_string())
}

/// Writes `key` into `dir` as `UTC--<time>--<address>` (mode 0600); returns the path.
pub fn store_key(
    dir: &Path,
    key: &PrivateKey,
    password: &str,
    log_n: u8,
) -> Result<PathBuf, KeystoreError> {
    create_private_dir(dir)?;
    let now = time_stamp();
    let path = dir.join(format!("UTC--{now}--{}", hex::encode(key.address())));
    let text = encrypt_key(key, password, log_n)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&path)?, text.as_bytes())?;
    Ok(path)
}

/// Creates `dir` (and parents) readable by the owner only, as geth's keystore (0700); an
/// existing folder is narrowed to 0700 too.
fn create_private_dir(dir: &Path) -> Result<(), KeystoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A keystore file's text, refused when larger than [`MAX_KEYFILE_BYTES`].
fn read_small(path: &Path) -> Result<String, KeystoreError> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_KEYFILE_BYTES {
        return Err(KeystoreError::Format(format!(
            "{} is {size} bytes: not a keystore file",
            path.display()
        )));
    }
    Ok(std::fs::read_to_string(path)?)
}

fn time_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}-{:02}-{:02}.000000000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The addresses of the keystore files in `dir`.
pub fn list_keys(dir: &Path) -> Result<Vec<(Address, PathBuf)>, KeystoreError> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(out) };
    for entry in entries {
        let path = entry?.path();
        let Ok(text) = read_small(&path) else { continue };
        let Ok(file) = serde_json::from_str::<KeyFile>(&text) else { continue };
        if let Some(Ok(address)) =
            file.address.map(|a| a.trim_start_matches("0x").parse::<Address>())
        {
            out.push((address, path));
        }
    }
    out.sort();
    Ok(out)
}

/// Finds and decrypts the key of `address` in `dir`.
pub fn unlock(dir: &Path, address: &Address, password: &str) -> Result<PrivateKey, KeystoreError> {
    let (_, path) = list_keys(dir)?
        .into_iter()
        .find(|(a, _)| a == address)
        .ok_or_else(|| KeystoreError::NotFound(*address, dir.to_path_buf()))?;
    let key = decrypt_key(&read_small(&path)?, password)?;
    if key.address() != *address {
        return Err(KeystoreError::Format("file's key does not match its address".into()));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vectors of the Web3 Secret Storage definition (password "testpassword").
    const PBKDF2: &str = r#"{"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},"ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46","kdf":"pbkdf2","kdfparams":{"c":262144,"dklen":32,"prf":"hmac-sha256","salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},"mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}"#;
    const SCRYPT: &str = r#"{"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"83dbcc02d8ccb40e466191a123791e0e"},"ciphertext":"d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c","kdf":"scrypt","kdfparams":{"dklen":32,"n":262144,"p":8,"r":1,"salt":"ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"},"mac":"2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}"#;
    const KEY: &str = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";

    #[test]
    fn pbkdf2_spec_vector_decrypts() {
        let key = decrypt_key(PBKDF2, "testpassword").unwrap();
        assert_eq!(hex::encode(key.to_bytes()), KEY);
        assert!(matches!(decrypt_key(PBKDF2, "wrong"), Err(KeystoreError::WrongPassword)));
    }

    #[test]
    fn scrypt_spec_vector_decrypts() {
        // n = 2^18 with r = 1: refused by the scrypt crate, accepted by geth, so by us too.
        let key = decrypt_key(SCRYPT, "testpassword").unwrap();
        assert_eq!(hex::encode(key.to_bytes()), KEY);
    }

    #[test]
    fn written_files_unlock_and_are_private() {
        let dir = std::env::temp_dir().join(format!("daisee-ks-{}", std::process::id()));
        let key = random_key().unwrap();
        let path = store_key(&dir, &key, "pw", 4).unwrap();
        assert!(path.file_name().unwrap().to_string_lossy().starts_with("UTC--"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        }
        assert_eq!(unlock(&dir, &key.address(), "pw").unwrap().address(), key.address());
        assert!(unlock(&dir, &key.address(), "nope").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The spec's scrypt vector with one field changed.
    fn crafted(field: &str, value: serde_json::Value) -> String {
        let mut v: serde_json::Value = serde_json::from_str(SCRYPT).unwrap();
        v["crypto"]["kdfparams"][field] = value;
        v.to_string()
    }

    #[test]
    fn absurd_key_derivations_are_refused_before_any_work() {
        let cases = [
            ("n", json!(1u64 << 40)),
            ("r", json!(1u64 << 20)),
            ("p", json!(1u64 << 30)),
            ("dklen", json!(1u64 << 30)),
            ("dklen", json!(64)),
            ("dklen", json!(16)),
            ("n", json!(3)),
            ("salt", json!("00".repeat(4096))),
        ];
        for (field, value) in cases {
            let started = std::time::Instant::now();
            let err = decrypt_key(&crafted(field, value.clone()), "testpassword").unwrap_err();
            assert!(matches!(err, KeystoreError::Format(_)), "{field}={value}: {err}");
            assert!(started.elapsed().as_secs() < 2, "{field}={value} did work");
        }
        let mut v: serde_json::Value = serde_json::from_str(PBKDF2).unwrap();
        v["crypto"]["kdfparams"]["c"] = json!(u64::MAX);
        assert!(matches!(decrypt_key(&v.to_string(), "x"), Err(KeystoreError::Format(_))));
        v["crypto"]["ciphertext"] = json!("00".repeat(1 << 16));
        assert!(matches!(decrypt_key(&v.to_string(), "x"), Err(KeystoreError::Format(_))));
    }
}
