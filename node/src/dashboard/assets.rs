//! The dashboard's files, embedded at compile time from `node/dashboard/` (no build step: what is
//! in the repository is what the browser gets), with their content types and ETags.

use std::sync::LazyLock;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Path under `/dashboard/`.
    pub path: &'static str,
    /// `Content-Type` header.
    pub content_type: &'static str,
    /// Contents.
    pub bytes: &'static [u8],
}

impl Asset {
    /// A strong ETag: a hash of the contents, so a browser revalidates cheaply across restarts
    /// and sees a changed file at once after an upgrade.
    pub fn etag(&self) -> String {
        let index = ASSETS.iter().position(|a| a.path == self.path).unwrap_or(0);
        ETAGS.get(index).cloned().unwrap_or_default()
    }
}

impl Asset {
    /// The contents gzipped (compressed once, at first use), with its own ETag (a different
    /// representation of the same file).
    pub fn gzipped(&self) -> (&'static [u8], String) {
        let index = ASSETS.iter().position(|a| a.path == self.path).unwrap_or(0);
        let etag = self.etag().trim_end_matches('"').to_string() + "-gz\"";
        (GZIPPED.get(index).copied().unwrap_or_default(), etag)
    }
}

static GZIPPED: LazyLock<Vec<&'static [u8]>> = LazyLock::new(|| {
    use std::io::Write;
    ASSETS
        .iter()
        .map(|a| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            // Writing to memory cannot fail; an empty body would only be served uncompressed.
            let bytes = gz.write_all(a.bytes).and_then(|()| gz.finish()).unwrap_or_default();
            &*Box::leak(bytes.into_boxed_slice())
        })
        .collect()
});

static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| format!("\"{}\"", &hex::encode(alloy_primitives::keccak256(a.bytes))[..16]))
        .collect()
});

macro_rules! assets {
    ($($path:literal => $type:expr),* $(,)?) => {
        /// Every file of the dashboard.
        pub static ASSETS: &[Asset] = &[$(Asset {
            path: $path,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/dashboard/", $path)),
        }),*];
    };
}

const JS: &str = "text/javascript; charset=utf-8";

assets! {
    "index.html" => "text/html; charset=utf-8",
    "style.css" => "text/css; charset=utf-8",
    "icon.svg" => "image/svg+xml",
    "app.js" => JS,
    "rpc.js" => JS,
    "abi.js" => JS,
    "data.js" => JS,
    "format.js" => JS,
    "i18n.js" => JS,
    "charts.js" => JS,
    "export.js" => JS,
    "views/home.js" => JS,
    "views/community.js" => JS,
    "views/chain.js" => JS,
    "views/buy.js" => JS,
    "views/history.js" => JS,
    "vendor/uplot-1.6.32/uPlot.iife.min.js" => JS,
    "vendor/uplot-1.6.32/uPlot.min.css" => "text/css; charset=utf-8",
    "vendor/uplot-1.6.32/LICENSE" => "text/plain; charset=utf-8",
}

/// The embedded file at `path`, if there is one.
pub(super) fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn files_under(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("dashboard folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files_under(&path, base, out);
            } else {
                let relative = path.strip_prefix(base).expect("under base");
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_of_the_dashboard_folder_is_embedded_and_nothing_else() {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard");
        let mut on_disk = Vec::new();
        files_under(&base, &base, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "add new files to the assets! list");
    }

    #[test]
    fn scripts_are_served_as_javascript_and_etags_differ() {
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            assert_eq!(asset.content_type, JS, "{}", asset.path);
        }
        let mut tags: Vec<String> = ASSETS.iter().map(Asset::etag).collect();
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len());
    }
}
