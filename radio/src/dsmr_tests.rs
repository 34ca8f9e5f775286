//! P1 decoding against telegrams recorded from DSMR 5, 4.2 and Sagemcom T210-D meters (their CRCs
//! as sent) and a DSMR 2.2 one, split at every byte boundary, with noise, cuts, parity bits and
//! corruption.

use super::*;

/// Recorded from an Iskra AM550 (DSMR 5.0), CRC as the meter sent it.
pub(crate) const DSMR5: &str =
    "/ISK5\\2M550T-1012\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(190324150541W)\r\n\
0-0:96.1.1(4530303434303037313331363530363138)\r\n1-0:1.8.1(003432.829*kWh)\r\n\
1-0:1.8.2(003224.632*kWh)\r\n1-0:2.8.1(000000.000*kWh)\r\n1-0:2.8.2(000000.000*kWh)\r\n\
0-0:96.14.0(0001)\r\n1-0:1.7.0(00.433*kW)\r\n1-0:2.7.0(00.000*kW)\r\n0-0:96.7.21(00005)\r\n\
0-0:96.7.9(00003)\r\n1-0:99.97.0(1)(0-0:96.7.19)(180417201458S)(0000000236*s)\r\n\
1-0:32.32.0(00001)\r\n1-0:52.32.0(00001)\r\n1-0:72.32.0(00001)\r\n1-0:32.36.0(00001)\r\n\
1-0:52.36.0(00001)\r\n1-0:72.36.0(00001)\r\n0-0:96.13.0()\r\n1-0:32.7.0(236.7*V)\r\n\
1-0:52.7.0(234.5*V)\r\n1-0:72.7.0(236.0*V)\r\n1-0:31.7.0(000*A)\r\n1-0:51.7.0(000*A)\r\n\
1-0:71.7.0(002*A)\r\n1-0:21.7.0(00.045*kW)\r\n1-0:41.7.0(00.010*kW)\r\n1-0:61.7.0(00.379*kW)\r\n\
1-0:22.7.0(00.000*kW)\r\n1-0:42.7.0(00.000*kW)\r\n1-0:62.7.0(00.000*kW)\r\n!9DF0\r\n";

/// DSMR 2.2 (no CRC), with a value continued on the next line as the specification shows.
const DSMR22: &str = "/ISk5\\2ME382-1003\r\n\r\n0-0:96.1.1(4B414C37303035313134343431323132)\r\n\
1-0:1.8.1(00154.590*kWh)\r\n1-0:1.8.2(00150.434*kWh)\r\n1-0:2.8.1(00001.250*kWh)\r\n\
1-0:2.8.2(00000.750*kWh)\r\n0-0:96.14.0(0002)\r\n1-0:1.7.0(0000.29*kW)\r\n0-0:96.13.0(3031\r\n\
3233)\r\n!\r\n";

#[test]
fn a_recorded_dsmr5_telegram_passes_its_crc_and_gives_its_registers() {
    let mut decoder = P1Decoder::default();
    let telegrams = decoder.push(DSMR5.as_bytes());
    assert_eq!(decoder.stats, P1Stats { telegrams: 1, ..Default::default() });
    let t = &telegrams[0];
    assert!(t.crc_checked);
    assert_eq!(t.identification, "ISK5\\2M550T-1012");
    assert_eq!(
        t.energy(),
        Some(P1Energy { imported_wh: 3_432_829 + 3_224_632, exported_wh: Some(0) })
    );
    assert_eq!(t.meter_id(), Some("4530303434303037313331363530363138"));
    assert_eq!(t.objects["1-0:99.97.0"].len(), 4);
    assert_eq!(t.objects["0-0:96.13.0"], vec![String::new()]);
}

/// DSMR 4.2 from a Kaifa meter (a gas meter on M-Bus, an event log), CRC as sent.
const DSMR42: &str = "/KFM5KAIFA-METER\r\n\r\n1-3:0.2.8(42)\r\n0-0:1.0.0(161113205757W)\r\n\
0-0:96.1.1(3960221976967177082151037881335713)\r\n1-0:1.8.1(001581.123*kWh)\r\n\
1-0:1.8.2(001435.706*kWh)\r\n1-0:2.8.1(000000.000*kWh)\r\n1-0:2.8.2(000000.000*kWh)\r\n\
0-0:96.14.0(0002)\r\n1-0:1.7.0(02.027*kW)\r\n1-0:2.7.0(00.000*kW)\r\n0-0:96.7.21(00015)\r\n\
0-0:96.7.9(00007)\r\n1-0:99.97.0(3)(0-0:96.7.19)(000104180320W)(0000237126*s)(000101000001W)\
(2147583646*s)(000102000003W)(2317482647*s)\r\n1-0:32.32.0(00000)\r\n1-0:52.32.0(00000)\r\n\
1-0:72.32.0(00000)\r\n1-0:32.36.0(00000)\r\n1-0:52.36.0(00000)\r\n1-0:72.36.0(00000)\r\n\
0-0:96.13.1()\r\n0-0:96.13.0()\r\n1-0:31.7.0(000*A)\r\n1-0:51.7.0(006*A)\r\n1-0:71.7.0(002*A)\r\n\
1-0:21.7.0(00.170*kW)\r\n1-0:22.7.0(00.000*kW)\r\n1-0:41.7.0(01.247*kW)\r\n1-0:42.7.0(00.000*kW)\r\n\
1-0:61.7.0(00.209*kW)\r\n1-0:62.7.0(00.000*kW)\r\n0-1:24.1.0(003)\r\n\
0-1:96.1.0(4819243993373755377509728609491464)\r\n0-1:24.2.1(161129200000W)(00981.443*m3)\r\n\
!6796\r\n";

/// DSMR 5 from a Sagemcom T210-D (Luxembourg's Smarty, decrypted): registers in Wh, totals and
/// both tariffs, reactive energy beside them.
const T210D: &str = "/EST5\\253710000_A\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(221006155014S)\r\n\
1-0:1.8.0(006545766*Wh)\r\n1-0:1.8.1(005017120*Wh)\r\n1-0:1.8.2(001528646*Wh)\r\n\
1-0:1.7.0(000000286*W)\r\n1-0:2.8.0(000000058*Wh)\r\n1-0:2.8.1(000000000*Wh)\r\n\
1-0:2.8.2(000000058*Wh)\r\n1-0:2.7.0(000000000*W)\r\n1-0:3.8.0(000000747*varh)\r\n\
1-0:3.8.1(000000000*varh)\r\n1-0:3.8.2(000000747*varh)\r\n1-0:3.7.0(000000000*var)\r\n\
1-0:4.8.0(003897726*varh)\r\n1-0:4.8.1(002692848*varh)\r\n1-0:4.8.2(001204878*varh)\r\n\
1-0:4.7.0(000000166*var)\r\n!7EF9\r\n";

#[test]
fn recorded_dsmr42_and_t210d_telegrams_pass_their_crc_and_give_their_registers() {
    let mut decoder = P1Decoder::default();
    let kaifa = decoder.push(DSMR42.as_bytes());
    assert!(kaifa[0].crc_checked);
    assert_eq!(
        kaifa[0].energy(),
        Some(P1Energy { imported_wh: 1_581_123 + 1_435_706, exported_wh: Some(0) })
    );
    assert_eq!(kaifa[0].objects["1-0:99.97.0"].len(), 8, "the event log's values");
    let sagemcom = decoder.push(T210D.as_bytes());
    assert!(sagemcom[0].crc_checked);
    assert_eq!(
        sagemcom[0].energy(),
        Some(P1Energy { imported_wh: 6_545_766, exported_wh: Some(58) }),
        "both tariffs add up to the total register"
    );
    assert_eq!(decoder.stats, P1Stats { telegrams: 2, ..Default::default() });
}

#[test]
fn a_dsmr22_telegram_without_crc_and_a_continued_value() {
    let telegrams = P1Decoder::default().push(DSMR22.as_bytes());
    let t = &telegrams[0];
    assert!(!t.crc_checked);
    assert_eq!(t.energy(), Some(P1Energy { imported_wh: 305_024, exported_wh: Some(2_000) }));
    assert_eq!(t.objects["0-0:96.13.0"], vec!["30313233".to_string()]);
}

#[test]
fn any_split_of_the_stream_gives_the_same_telegrams() {
    let stream = format!("garbage{DSMR5}{DSMR22}{DSMR5}");
    let whole = P1Decoder::default().push(stream.as_bytes());
    assert_eq!(whole.len(), 3);
    for cut in 0..stream.len() {
        let mut decoder = P1Decoder::default();
        let mut got = decoder.push(&stream.as_bytes()[..cut]);
        got.extend(decoder.push(&stream.as_bytes()[cut..]));
        assert_eq!(got, whole, "cut at {cut}");
        assert_eq!(decoder.stats.noise_bytes, 7);
    }
    let mut decoder = P1Decoder::default();
    let parity: Vec<Telegram> = stream.bytes().flat_map(|b| decoder.push(&[b | 0x80])).collect();
    assert_eq!(parity, whole);
}

#[test]
fn corruption_cuts_and_noise_are_counted_never_read() {
    // One digit changed under the CRC.
    let corrupt = DSMR5.replace("003432.829", "003432.828");
    let mut decoder = P1Decoder::default();
    assert!(decoder.push(corrupt.as_bytes()).is_empty());
    assert_eq!(decoder.stats.bad_crc, 1);
    // A telegram cut by the next one's start; a CRC line that is not hex; one that never ends.
    let cut = &DSMR5[..200];
    let not_hex = DSMR5.replace("!9DF0", "!9DFZ");
    let endless = format!("/XYZ5 meter\r\n{}", "1".repeat(MAX_TELEGRAM));
    let stream = format!("{cut}{DSMR22}{not_hex}{endless}");
    let mut decoder = P1Decoder::default();
    let got = decoder.push(stream.as_bytes());
    assert_eq!(got.len(), 1, "only the DSMR 2.2 telegram is whole");
    assert_eq!(decoder.stats.partial, 2, "{:?}", decoder.stats);
    assert_eq!(decoder.stats.malformed, 1, "{:?}", decoder.stats);
    // One tariff register alone is not the household's energy.
    let one = DSMR22.replace("1-0:1.8.2(00150.434*kWh)\r\n", "");
    assert_eq!(P1Decoder::default().push(one.as_bytes())[0].energy(), None);
}

#[test]
fn quantities_are_exact_integers() {
    assert_eq!(parse_wh("004169.415*kWh"), Some(4_169_415));
    assert_eq!(parse_wh("00154.59*kWh"), Some(154_590));
    assert_eq!(parse_wh("12*kWh"), Some(12_000));
    assert_eq!(parse_wh("1234*Wh"), Some(1_234));
    assert_eq!(parse_wh("1.5*Wh"), None);
    assert_eq!(parse_wh("12.3*m3"), None);
    assert_eq!(parse_wh("-1.000*kWh"), None);
    assert_eq!(parse_wh("1e3*kWh"), None);
    assert_eq!(parse_wh("*kWh"), None);
}
