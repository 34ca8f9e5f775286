//! The sources' settings as a config file gives them: checked before anything is opened.

use super::{key, open, SourceConfig};
use crate::meter_config::MeterConfig;
use std::path::Path;

#[test]
fn utility_meters_are_configured_in_a_few_lines_and_bad_settings_refused() {
    let config: MeterConfig = toml::from_str(
        "account = \"0x14dc79964da2c08b23698b3d3cc7ca32193d9955\"\n\
         [[sensor]]\ndirection = \"grid\"\nsource = \"tic\"\npath = \"/dev/null\"\nmode = \"weird\"\n\
         [[sensor]]\ndirection = \"grid\"\nsource = \"p1\"\npath = \"/nonexistent/tty\"\n",
    )
    .unwrap();
    assert_eq!(config.interval, 900, "15 minutes by default");
    assert!(matches!(config.sensors[1].source, SourceConfig::P1 { baud: None, .. }));
    let mode = open(&config.sensors[0].source, Path::new("/")).err().unwrap().to_string();
    assert!(mode.contains("historique, standard or auto"), "{mode}");
    let missing = format!("{:#}", open(&config.sensors[1].source, Path::new("/")).err().unwrap());
    assert!(missing.contains("/nonexistent/tty"), "{missing}");
    let baud = SourceConfig::P1 { path: "/dev/null".into(), baud: Some(4800), key: None };
    let said = format!("{:#}", open(&baud, Path::new("/")).err().unwrap());
    assert!(said.contains("115200 (DSMR 4 and 5)"), "{said}");
}

/// The error `open` gives for one `[[meter.sensor]]` written in TOML.
fn refused(sensor: &str) -> String {
    let config: MeterConfig = toml::from_str(&format!(
        "account = \"0x14dc79964da2c08b23698b3d3cc7ca32193d9955\"\n[[sensor]]\n\
         direction = \"grid\"\n{sensor}"
    ))
    .unwrap();
    format!("{:#}", open(&config.sensors[0].source, Path::new("/")).err().expect(sensor))
}

#[test]
fn modbus_shelly_and_mqtt_settings_are_checked() {
    let modbus = "source = \"modbus\"\npath = \"/dev/null\"\n";
    assert!(refused(&format!("{modbus}model = \"sdm999\"")).contains("unknown Modbus model"));
    let both = format!("{modbus}model = \"sdm120\"\nregisters = {{ import = 72 }}");
    assert!(refused(&both).contains("either a `model` or its `registers`"));
    let slave = format!("{modbus}model = \"sdm120\"\nslave = 0");
    assert!(refused(&slave).contains("1 to 247"), "{}", refused(&slave));
    let function = format!("{modbus}model = \"sdm120\"\nfunction = \"coils\"");
    assert!(refused(&function).contains("input or holding"));
    for url in ["192.168.1.50", "https://192.168.1.50", "http://h/rpc"] {
        let said = refused(&format!("source = \"shelly\"\nurl = \"{url}\""));
        assert!(said.contains("http://192.168.1.50"), "{said}");
    }
    let mqtt = "source = \"mqtt\"\nbroker = \"127.0.0.1:1883\"\n";
    assert!(refused(&format!("{mqtt}topic = \"tele/#\"")).contains("without wildcards"));
    let unit = format!("{mqtt}topic = \"t\"\nunit = \"W\"");
    assert!(refused(&unit).contains("Wh or kWh"));
    let port = "source = \"mqtt\"\nbroker = \"h:port\"\ntopic = \"t\"";
    assert!(refused(port).contains("port"));
    let smarty = "source = \"p1\"\npath = \"/dev/null\"\nkey = \"00112233\"";
    assert!(refused(smarty).contains("32 hex digits"));
}

#[test]
fn a_sensor_key_must_be_given_and_the_factory_key_named() {
    let missing = key(&None).unwrap_err().to_string();
    assert!(missing.contains("factory"), "{missing}");
    assert_eq!(key(&Some("factory".into())).unwrap(), daisee_radio::SensorKey::default());
    let own = key(&Some("00112233445566778899aabbccddeeff".into())).unwrap();
    assert_ne!(own, daisee_radio::SensorKey::default());
    assert!(key(&Some("1-2-3".into())).is_err());
}
