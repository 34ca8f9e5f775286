//! Readings a meter closed but could not store (a full disk), written beside the database when
//! the node stops: a plain file, which can be written once the operator freed space even though
//! the database of that process keeps refusing (sled's error is sticky until it is reopened), and
//! taken back into the outbox at the next start, so a full disk loses nothing across the restart
//! its message asks for.

use super::interval::Reading;
use crate::primitives::Address;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest spill file read back: a week of one-minute readings as JSON is well under it.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a spill file cannot be taken back.
#[derive(Debug, thiserror::Error)]
pub(super) enum SpillError {
    /// Reading or writing the file failed.
    #[error("unsaved readings file {0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// The file is larger than any this node writes, or not a list of readings.
    #[error("unsaved readings file {0} is not one this node wrote ({1}); kept as {0}.bad")]
    Malformed(PathBuf, String),
}

/// Where `meter`'s unsaved readings go in `dir` (the datadir's `daisee/`).
pub(super) fn path(dir: &Path, meter: &Address) -> PathBuf {
    dir.join(format!("unsaved-readings-{meter:#x}.json"))
}

/// Writes `readings` for `meter`, durably (a temporary file, synced, then renamed).
pub(super) fn write(
    dir: &Path,
    meter: &Address,
    readings: &[Reading],
) -> Result<PathBuf, SpillError> {
    let target = path(dir, meter);
    let io = |e| SpillError::Io(target.clone(), e);
    let json = serde_json::to_vec(readings).map_err(|e| io(e.into()))?;
    let temporary = target.with_extension("json.tmp");
    let mut file = std::fs::File::create(&temporary).map_err(io)?;
    file.write_all(&json).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&temporary, &target).map_err(io)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(target)
}

/// The readings spilled for `meter`, if any. A file this node could not have written is set
/// aside (renamed `.bad`), never silently dropped nor retried forever.
pub(super) fn read(dir: &Path, meter: &Address, max: usize) -> Result<Vec<Reading>, SpillError> {
    let target = path(dir, meter);
    let size = match std::fs::metadata(&target) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SpillError::Io(target, e)),
    };
    let refuse = |why: String| {
        let _ = std::fs::rename(&target, target.with_extension("json.bad"));
        Err(SpillError::Malformed(target.clone(), why))
    };
    if size > MAX_FILE_BYTES {
        return refuse(format!("{size} bytes"));
    }
    let raw = std::fs::read(&target).map_err(|e| SpillError::Io(target.clone(), e))?;
    match serde_json::from_slice::<Vec<Reading>>(&raw) {
        Ok(readings) if readings.len() <= max => Ok(readings),
        Ok(readings) => refuse(format!("{} readings, at most {max}", readings.len())),
        Err(e) => refuse(e.to_string()),
    }
}

/// Removes `meter`'s spill file once its readings are in the outbox.
pub(super) fn remove(dir: &Path, meter: &Address) -> Result<(), SpillError> {
    let target = path(dir, meter);
    match std::fs::remove_file(&target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SpillError::Io(target, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("daisee-spill-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn readings_round_trip_and_a_missing_file_is_none() {
        let d = dir("trip");
        let meter = Address::repeat_byte(9);
        assert!(read(&d, &meter, 10).unwrap().is_empty());
        let readings: Vec<Reading> = (1..=3)
            .map(|i| Reading { interval_end: 900 * i, produced_wh: i, consumed_wh: 2 * i })
            .collect();
        write(&d, &meter, &readings).unwrap();
        assert_eq!(read(&d, &meter, 10).unwrap(), readings);
        remove(&d, &meter).unwrap();
        assert!(read(&d, &meter, 10).unwrap().is_empty());
        remove(&d, &meter).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_file_the_node_did_not_write_is_set_aside() {
        let d = dir("bad");
        let meter = Address::repeat_byte(7);
        for junk in [b"not json".to_vec(), vec![b' '; (MAX_FILE_BYTES + 1) as usize]] {
            std::fs::write(path(&d, &meter), &junk).unwrap();
            let err = read(&d, &meter, 10).unwrap_err();
            assert!(err.to_string().contains(".bad"), "{err}");
            assert!(!path(&d, &meter).exists());
            assert!(path(&d, &meter).with_extension("json.bad").exists());
        }
        let many: Vec<Reading> =
            (0..11).map(|i| Reading { interval_end: i, produced_wh: 0, consumed_wh: 0 }).collect();
        write(&d, &meter, &many).unwrap();
        assert!(read(&d, &meter, 10).is_err(), "more readings than a node keeps");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
