//! `daisee backup` and `daisee restore`: a consistent copy of a board — its database (chain,
//! state, the meters' outbox, the daybook) and its node key, its keystore only when asked — in one
//! file, taken from a running node over its IPC socket (the node pauses block commits and meter
//! writes while it copies) or from a stopped one's datadir. The file ends with a SHA-256 of all
//! before it and is written under a temporary name then renamed, so a backup cut short by a crash
//! or a power cut never passes for a finished one.
//!
//! Layout: `daisee-backup 1\n`, a JSON header line, the database stream (see `Store::dump`), the
//! files (`[u32 name length][name][u32 length][bytes]`… ended by `u32::MAX`), the SHA-256.

use crate::launch;
use anyhow::{bail, Context};
use daisee_node::service::layout;
use daisee_node::state::Store;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"daisee-backup 1\n";
const END: u32 = u32::MAX;
/// Largest file carried (a node key or a keystore file is a few hundred bytes).
const MAX_FILE: u32 = 1024 * 1024;

/// Writes everything to the inner writer and hashes it on the way.
struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The files a backup carries, relative to the datadir.
fn files(datadir: &Path, keystore: bool) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let nodekey = layout::nodekey(datadir);
    if nodekey.exists() {
        out.push(("daisee/nodekey".to_string(), std::fs::read(&nodekey)?));
    }
    if keystore {
        let dir = layout::keystore(datadir);
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let name = entry.file_name().to_string_lossy().to_string();
                out.push((format!("keystore/{name}"), std::fs::read(entry.path())?));
            }
        }
    }
    Ok(out)
}

/// `daisee backup`.
pub fn backup(datadir: &Path, file: &Path, keystore: bool) -> anyhow::Result<()> {
    let file = std::path::absolute(file)?;
    let partial = file.with_extension("partial");
    let dump = file.with_extension("db.partial");
    let _ = std::fs::remove_file(&dump);
    let ipc = datadir.join("daisee.ipc");
    let (entries, head, head_hash) = match crate::attach::connect(
        Some(ipc.display().to_string()),
        None,
    ) {
        Ok(mut node) => {
            let request =
                json!({ "jsonrpc": "2.0", "id": 1, "method": "admin_backup", "params": [dump] });
            let answer = node.call(&request)?;
            if let Some(error) = answer.get("error") {
                bail!(
                    "the running node refused: {}",
                    error["message"].as_str().unwrap_or("unknown error")
                );
            }
            let r = &answer["result"];
            (
                r["entries"].as_u64().unwrap_or(0),
                r["head"].as_u64().unwrap_or(0),
                r["headHash"].as_str().unwrap_or("").to_string(),
            )
        }
        Err(_) => {
            let store = launch::open_store(datadir)?;
            let mut out = BufWriter::new(std::fs::File::create_new(&dump)?);
            let entries = store.dump(&mut out)?;
            out.flush()?;
            let head = store.head()?;
            (entries, head.number, format!("{:#x}", head.hash()))
        }
    };
    let carried = files(datadir, keystore)?;
    let header = json!({
        "head": head, "headHash": head_hash, "entries": entries,
        "createdAt": daisee_node::node::unix_now(),
        "files": carried.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
    });
    let mut out =
        Hashing { inner: BufWriter::new(std::fs::File::create(&partial)?), hash: Sha256::new() };
    out.write_all(MAGIC)?;
    out.write_all(format!("{header}\n").as_bytes())?;
    std::io::copy(&mut BufReader::new(std::fs::File::open(&dump)?), &mut out)?;
    for (name, bytes) in &carried {
        for part in [name.as_bytes(), bytes.as_slice()] {
            out.write_all(&(part.len() as u32).to_be_bytes())?;
            out.write_all(part)?;
        }
    }
    out.write_all(&END.to_be_bytes())?;
    let digest = out.hash.finalize();
    let mut inner = out.inner;
    inner.write_all(&digest)?;
    inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::remove_file(&dump)?;
    std::fs::rename(&partial, &file)?;
    super::say(&format!(
        "backup of block {head} ({head_hash}), {entries} entries, {} files: {}",
        carried.len(),
        file.display()
    ))
}

/// `daisee restore`.
pub fn restore(file: &Path, datadir: &Path) -> anyhow::Result<()> {
    let chaindata = layout::chaindata(datadir);
    if chaindata.exists() && std::fs::read_dir(&chaindata)?.next().is_some() {
        bail!("{} already holds a database: restore into a new datadir", chaindata.display());
    }
    // The whole file first: a backup cut short or damaged is refused before anything is written.
    let size =
        std::fs::metadata(file).with_context(|| format!("reading {}", file.display()))?.len();
    if size < (MAGIC.len() + 32) as u64 {
        bail!("{} is not a finished Daisee backup (too short)", file.display());
    }
    let mut hash = Sha256::new();
    let mut reader = BufReader::new(std::fs::File::open(file)?);
    std::io::copy(&mut (&mut reader).take(size - 32), &mut hash)?;
    let mut stored = [0u8; 32];
    reader.read_exact(&mut stored)?;
    if hash.finalize()[..] != stored[..] {
        bail!(
            "{} is damaged or was cut short (its checksum does not match): use another backup",
            file.display()
        );
    }
    let mut reader = BufReader::new(std::fs::File::open(file)?).take(size - 32);
    let mut magic = vec![0; MAGIC.len()];
    reader.read_exact(&mut magic)?;
    if magic != MAGIC {
        bail!("{} is not a Daisee backup", file.display());
    }
    let mut header = Vec::new();
    let mut byte = [0u8; 1];
    while reader.read(&mut byte)? == 1 && byte[0] != b'\n' {
        header.push(byte[0]);
        if header.len() > 1024 * 1024 {
            bail!("backup header too long");
        }
    }
    let header: serde_json::Value = serde_json::from_slice(&header).context("backup header")?;
    std::fs::create_dir_all(&chaindata)?;
    let store = Store::open(&chaindata)?;
    let entries = store.load(&mut reader)?;
    store.flush()?;
    let mut restored: Vec<PathBuf> = Vec::new();
    loop {
        let mut len = [0u8; 4];
        reader.read_exact(&mut len)?;
        let name_len = u32::from_be_bytes(len);
        if name_len == END {
            break;
        }
        if name_len > 4096 {
            bail!("backup file name too long");
        }
        let mut name = vec![0; name_len as usize];
        reader.read_exact(&mut name)?;
        reader.read_exact(&mut len)?;
        let bytes_len = u32::from_be_bytes(len);
        if bytes_len > MAX_FILE {
            bail!("backup file too large");
        }
        let mut bytes = vec![0; bytes_len as usize];
        reader.read_exact(&mut bytes)?;
        let name = String::from_utf8(name)?;
        let relative = Path::new(&name);
        if relative.is_absolute()
            || relative.components().any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail!("backup names a file outside the datadir: {name}");
        }
        let target = datadir.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))?;
        }
        use std::os::unix::fs::OpenOptionsExt;
        let mut out =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&target)?;
        out.write_all(&bytes)?;
        restored.push(target);
    }
    super::say(&format!(
        "restored block {} ({}), {entries} entries and {} files into {}",
        header["head"],
        header["headHash"].as_str().unwrap_or(""),
        restored.len(),
        datadir.display()
    ))
}
