//! TIC decoding against frames recorded from real meters (historique: HC/HP and Tempo; standard:
//! a Linky's), split at every byte boundary, with noise, cuts, parity bits and corruption.

use super::*;

/// A frame from data-set lines as the meter sends them (checksums included).
pub(crate) fn frame(lines: &[&str]) -> Vec<u8> {
    let mut out = vec![STX];
    for line in lines {
        out.push(LF);
        out.extend_from_slice(line.as_bytes());
        out.push(CR);
    }
    out.push(ETX);
    out
}

/// Recorded from a Linky in historique mode, HC/HP tariff.
pub(crate) const HCHP: [&str; 11] = [
    "ADCO 021528603314 :",
    "OPTARIF HC.. <",
    "ISOUSC 15 <",
    "HCHC 001096011 X",
    "HCHP 002784502 /",
    "PTEC HP..  ",
    "IINST 001 X",
    "IMAX 002 A",
    "PAPP 00180 *",
    "HHPHC A ,",
    "MOTDETAT 000000 B",
];

/// Recorded in historique mode, Tempo tariff (six indexes).
const TEMPO: [&str; 16] = [
    "ADCO 031961098836 M",
    "OPTARIF BBR( S",
    "ISOUSC 45 ?",
    "BBRHCJB 001478389 E",
    "BBRHPJB 001012295 >",
    "BBRHCJW 000134553 G",
    "BBRHPJW 000213701 M",
    "BBRHCJR 000025098 E",
    "BBRHPJR 000006010 A",
    "PTEC HPJB P",
    "DEMAIN BLEU V",
    "IINST 001 X",
    "IMAX 060 E",
    "PAPP 00120 $",
    "HHPHC A ,",
    "MOTDETAT 000000 B",
];

/// Recorded from a Linky in standard mode (timestamps, an empty value, a message with spaces).
const STANDARD: [&str; 18] = [
    "VTIC\t02\tJ",
    "DATE\tE200426181830\t\tA",
    "EAST\t006231973\t.",
    "EASF02\t000000000\t#",
    "EASD01\t000350847\t;",
    "URMS1\t235\tD",
    "PREF\t09\tH",
    "SINSTS\t01163\tQ",
    "SMAXSN\tE200426132229\t06100\t2",
    "CCASN-1\tE200426173000\t02662\t_",
    "MSG1\t     PAS DE          MESSAGE    \t<",
    "PRM\t01332272002530\t_",
    "RELAIS\t000\tB",
    "NTARF\t01\tN",
    "NJOURF\t00\t&",
    "NJOURF+1\t00\tB",
    "ADSC\t041776199277\tI",
    "NGTF\t     TEMPO      \tF",
];

#[test]
fn recorded_historique_frames_give_their_indexes() {
    let mut decoder = TicDecoder::new(None);
    let frames = decoder.push(&[frame(&HCHP), frame(&TEMPO)].concat());
    assert_eq!(frames.len(), 2, "{:?}", decoder.stats);
    assert_eq!(decoder.stats, TicStats { frames: 2, ..Default::default() });
    let hc = &frames[0];
    assert_eq!(hc.mode, TicMode::Historique);
    assert_eq!(hc.groups.len(), 11);
    assert_eq!(
        hc.energy(),
        Some(TicEnergy { imported_wh: 1_096_011 + 2_784_502, exported_wh: None })
    );
    assert_eq!(hc.power_va(), Some(180));
    assert_eq!(hc.meter_id(), Some("021528603314"));
    assert_eq!(hc.groups["PTEC"].value, "HP..");
    let tempo = frames[1].energy().unwrap();
    assert_eq!(tempo.imported_wh, 1_478_389 + 1_012_295 + 134_553 + 213_701 + 25_098 + 6_010);
}

#[test]
fn a_recorded_standard_frame_gives_east_timestamps_and_fields_with_spaces() {
    let mut decoder = TicDecoder::new(Some(TicMode::Standard));
    let frames = decoder.push(&frame(&STANDARD));
    assert_eq!(decoder.stats, TicStats { frames: 1, ..Default::default() });
    let f = &frames[0];
    assert_eq!(f.mode, TicMode::Standard);
    assert_eq!(f.groups.len(), STANDARD.len());
    assert_eq!(f.energy(), Some(TicEnergy { imported_wh: 6_231_973, exported_wh: None }));
    assert_eq!(f.power_va(), Some(1163));
    assert_eq!(f.meter_id(), Some("041776199277"));
    assert_eq!(f.groups["DATE"].timestamp.as_deref(), Some("E200426181830"));
    assert_eq!(f.groups["DATE"].value, "");
    assert_eq!(f.groups["SMAXSN"].value, "06100");
    assert!(f.groups["MSG1"].value.contains("PAS DE"));
}

/// A data set in standard mode with its checksum computed (the checksum function is checked
/// against the recorded lines above).
fn standard(label: &str, value: &str) -> String {
    let covered = format!("{label}\t{value}\t");
    format!("{covered}{}", checksum(covered.as_bytes()) as char)
}

#[test]
fn a_producer_frame_gives_injection() {
    let lines = [
        standard("ADSC", "041776199277"),
        standard("EAST", "000123456"),
        standard("EAIT", "000654321"),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let frames = TicDecoder::new(None).push(&frame(&lines));
    assert_eq!(
        frames[0].energy(),
        Some(TicEnergy { imported_wh: 123_456, exported_wh: Some(654_321) })
    );
}

#[test]
fn any_split_of_the_stream_gives_the_same_frames() {
    let stream = [b"noise".to_vec(), frame(&HCHP), frame(&STANDARD), frame(&TEMPO)].concat();
    let whole = TicDecoder::new(None).push(&stream);
    assert_eq!(whole.len(), 3);
    for cut in 0..stream.len() {
        let mut decoder = TicDecoder::new(None);
        let mut frames = decoder.push(&stream[..cut]);
        frames.extend(decoder.push(&stream[cut..]));
        assert_eq!(frames, whole, "cut at {cut}");
        assert_eq!(decoder.stats.noise_bytes, 5);
    }
    // Byte by byte, and with the parity bit a port read as 8N1 leaves on top.
    let mut decoder = TicDecoder::new(None);
    let frames: Vec<TicFrame> = stream.iter().flat_map(|b| decoder.push(&[b | 0x80])).collect();
    assert_eq!(frames, whole);
}

#[test]
fn a_corrupt_data_set_is_dropped_and_counted_never_read() {
    let mut bytes = frame(&HCHP);
    // One bit flipped in HCHP's digits: 002784502 → 002784503.
    let at = bytes.windows(9).position(|w| w == b"002784502").unwrap() + 8;
    bytes[at] ^= 0x01;
    let mut decoder = TicDecoder::new(None);
    let frames = decoder.push(&bytes);
    assert_eq!(decoder.stats.bad_checksums, 1);
    assert!(!frames[0].groups.contains_key("HCHP"));
    assert_eq!(frames[0].groups.len(), 10);
    // HCHC alone is not the household's energy: no energy from that frame, not a smaller one.
    assert_eq!(frames[0].energy(), None);
    // EAST corrupted: no energy from that frame at all.
    let mut std_bytes = frame(&STANDARD);
    let at = std_bytes.windows(9).position(|w| w == b"006231973").unwrap();
    std_bytes[at + 3] = b'9';
    let frames = TicDecoder::new(None).push(&std_bytes);
    assert_eq!(frames[0].energy(), None);
}

#[test]
fn cut_frames_noise_and_the_wrong_mode_are_counted() {
    let mut decoder = TicDecoder::new(None);
    // EOT interrupts a frame; a new STX restarts one; a frame that never ends is cut.
    let mut stream = frame(&HCHP);
    stream.insert(20, EOT);
    stream.extend_from_slice(&[STX, LF, b'A']);
    stream.extend(frame(&TEMPO));
    stream.push(STX);
    stream.extend(std::iter::repeat_n(b'x', MAX_FRAME + 1));
    let frames = decoder.push(&stream);
    assert_eq!(frames.len(), 1, "only the Tempo frame is whole");
    assert_eq!(decoder.stats.partial_frames, 3, "{:?}", decoder.stats);
    assert!(decoder.stats.noise_bytes > 100, "the rest of the cut frame is noise");
    // A board set to historique refuses a standard frame (a wrong setting or baud rate).
    let mut historique = TicDecoder::new(Some(TicMode::Historique));
    assert!(historique.push(&frame(&STANDARD)).is_empty());
    assert_eq!(historique.stats.malformed, STANDARD.len() as u64);
    // Line noise inside a data set: wrong shape.
    let mut decoder = TicDecoder::new(None);
    let frames = decoder.push(&frame(&["OPTARIF BASE 0", "BASE\u{7f}008453671 -"]));
    assert_eq!(decoder.stats.malformed, 1);
    assert_eq!(frames[0].energy(), None);
}

#[test]
fn indexes_must_be_digits() {
    assert_eq!(parse_index("006231973"), Some(6_231_973));
    assert_eq!(parse_index(""), None);
    assert_eq!(parse_index("12a"), None);
    assert_eq!(parse_index("12345678901"), None);
}
