//! Ethereum's Web3 Secret Storage vectors (`KeyStoreTests/basic_tests.json`) through the node's
//! keystore reader: pbkdf2 and scrypt, an odd-length IV, a "nonce" of zeros.

use super::keystore::decrypt_key;
use crate::primitives::vector_tests::fixture;

#[test]
fn keystore_vectors_decrypt_to_their_keys() {
    let tests = fixture("KeyStoreTests/basic_tests.json");
    let tests = tests.as_object().expect("tests");
    for (name, test) in tests {
        let json = test["json"].to_string();
        let password = test["password"].as_str().expect("password");
        let key = decrypt_key(&json, password).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(hex::encode(key.to_bytes()), test["priv"].as_str().expect("priv"), "{name}");
        assert!(decrypt_key(&json, "not the password").is_err(), "{name}: a wrong password");
    }
    assert_eq!(tests.len(), 5);
}
