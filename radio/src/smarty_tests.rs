//! Smarty decryption against a frame encrypted by another implementation (Python's
//! `cryptography`, OpenSSL's AES-GCM, with the 12-byte tag the meters send), split at every byte
//! boundary, with noise, a wrong key and corruption.

use super::*;

/// The key of the test frame, as a supplier would give it.
pub(crate) const KEY: &str = "AFB3F93E3E7204EDB3C27F96DBD51AE0";

/// A DSMR 5 telegram as a Sagemcom T210-D sends it (registers in Wh), encrypted: system title
/// 5341475903BBF3B2, frame counter 0x49A5.
const FRAME: [&str; 5] = [
    "db085341475903bbf3b28200cc30000049a51d87bdb726c6a17a47ec07ab4642bdec6ed5a51333390866eed2512944db",
    "50f860ef75e43fc21951c001e6fccadfef1484f8496220c3f78eee45c17046f70b34fb83a2660aaa52ee3ab067c14eff",
    "f0c0c9d11797cfd3c092601f567f817047df09b7669da8c4c6c07016e805b8b2efeb6a1d744cfa6a8e30d521ada6b2d3",
    "9718299b01740e39e11961a1184f447516a75120c2eb60a81554403ada5a7b0689bed40bb1c03f00bf7c360043efe09b",
    "b2f68e70bda2dc4b2e227e3c643c97137123f515b5570b99f4",
];

pub(crate) fn frame() -> Vec<u8> {
    hex::decode(FRAME.concat()).unwrap()
}

fn decryptor() -> SmartyDecryptor {
    SmartyDecryptor::new(&parse_key(KEY).unwrap())
}

#[test]
fn a_frame_encrypted_elsewhere_decrypts_to_a_telegram_the_p1_decoder_reads() {
    let telegrams = decryptor().push(&frame());
    assert_eq!(telegrams.len(), 1);
    assert!(telegrams[0].starts_with(b"/Sag5\\253710000_A\r\n"));
    let decoded = crate::dsmr::P1Decoder::default().push(&telegrams[0]).pop().unwrap();
    assert!(decoded.crc_checked);
    let energy = decoded.energy().unwrap();
    assert_eq!((energy.imported_wh, energy.exported_wh), (6_545_766, Some(0)));
}

#[test]
fn any_split_with_noise_gives_the_same_telegram() {
    let mut stream = b"\x00\xdb\x07noise".to_vec();
    stream.extend(frame());
    stream.extend(b"\xff\xdb");
    stream.extend(frame());
    for cut in 0..stream.len() {
        let mut d = decryptor();
        let mut got = d.push(&stream[..cut]);
        got.extend(d.push(&stream[cut..]));
        assert_eq!(got.len(), 2, "cut at {cut}");
        assert_eq!(got[0], got[1]);
    }
}

#[test]
fn a_wrong_key_a_flipped_bit_or_an_impossible_header_is_counted_never_read() {
    let mut wrong = SmartyDecryptor::new(&[7u8; 16]);
    assert!(wrong.push(&frame()).is_empty());
    assert_eq!(wrong.stats.bad_tags, 1);
    let mut d = decryptor();
    for at in [20, 100, frame().len() - 1] {
        let mut corrupted = frame();
        corrupted[at] ^= 0x04;
        assert!(d.push(&corrupted).is_empty(), "bit flipped at {at}");
    }
    assert_eq!(d.stats.bad_tags, 3);
    // A length beyond any telegram: skipped, and the frame after it still read.
    let mut huge = frame();
    huge[11] = 0xff;
    huge.extend(frame());
    assert_eq!(d.push(&huge).len(), 1);
    assert!(d.stats.malformed >= 1);
    for bad in ["", "AFB3", "zz".repeat(16).as_str(), &KEY[..31]] {
        assert!(parse_key(bad).is_none(), "{bad}");
    }
}
