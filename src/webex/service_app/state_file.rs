//! The state file: the Service App's newest access and refresh tokens,
//! kept across restarts. Each save writes a temporary file in the same
//! directory with mode 0600 and renames it over the old one, so a reader
//! sees either the old or the new file, never a partial one.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version of the file layout written by this build.
const FORMAT_VERSION: u32 = 1;

/// Tokens as stored in the state file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoredTokens {
    pub version: u32,
    pub client_id: String,
    pub access_token: Option<String>,
    pub access_token_issued_at: Option<DateTime<Utc>>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token: String,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    /// SHA-256 (hex) of the configured refresh token these tokens descend
    /// from. A configured token with another hash is a new one and wins
    /// over the file.
    pub origin_refresh_token_sha256: String,
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("client_id", &self.client_id)
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("refresh_token_expires_at", &self.refresh_token_expires_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

impl StoredTokens {
    /// Returns the layout version this build writes.
    pub fn current_version() -> u32 {
        FORMAT_VERSION
    }
}

/// A state file that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error("service_app.state_file ({path}) cannot be read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "service_app.state_file ({path}) is not a valid state file ({detail}); fix it, or delete it to start again from service_app.refresh_token"
    )]
    Invalid { path: PathBuf, detail: String },
    #[error("service_app.state_file ({path}) cannot be written: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Returns the lowercase hex SHA-256 of `token`.
pub fn fingerprint(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Location of the state file.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the stored tokens; `None` when the file does not exist yet.
    /// A file readable by others is narrowed to mode 0600 with a warning.
    pub fn load(&self) -> Result<Option<StoredTokens>, StateFileError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateFileError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        self.restrict_permissions();
        let stored: StoredTokens =
            serde_json::from_str(&text).map_err(|e| StateFileError::Invalid {
                path: self.path.clone(),
                detail: e.to_string(),
            })?;
        if stored.version != FORMAT_VERSION {
            return Err(StateFileError::Invalid {
                path: self.path.clone(),
                detail: format!(
                    "version {} is not the supported version {FORMAT_VERSION}",
                    stored.version
                ),
            });
        }
        Ok(Some(stored))
    }

    /// Replaces the file atomically with `tokens`, mode 0600.
    pub async fn save(&self, tokens: &StoredTokens) -> Result<(), StateFileError> {
        let path = self.path.clone();
        let json = serde_json::to_vec_pretty(tokens).expect("stored tokens always serialize");
        let result = tokio::task::spawn_blocking(move || write_atomically(&path, &json)).await;
        let source = match result {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(source)) => source,
            Err(join_error) => std::io::Error::other(join_error.to_string()),
        };
        Err(StateFileError::Write {
            path: self.path.clone(),
            source,
        })
    }

    #[cfg(unix)]
    fn restrict_permissions(&self) {
        use std::os::unix::fs::PermissionsExt;
        let Ok(metadata) = std::fs::metadata(&self.path) else {
            return;
        };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 == 0 {
            return;
        }
        let narrowed = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600));
        match narrowed {
            Ok(()) => tracing::warn!(
                path = %self.path.display(),
                old_mode = format!("{mode:o}"),
                "service_app.state_file was readable by other users; changed its mode to 600"
            ),
            Err(error) => tracing::warn!(
                path = %self.path.display(),
                old_mode = format!("{mode:o}"),
                %error,
                "service_app.state_file is readable by other users and its mode cannot be changed"
            ),
        }
    }

    #[cfg(not(unix))]
    fn restrict_permissions(&self) {}
}

/// Writes `bytes` to a new temporary file beside `path` (mode 0600 on
/// Unix, as `tempfile` creates it), flushes it to disk, renames it over
/// `path` and flushes the directory entry.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".guestissuer-state-")
        .suffix(".tmp")
        .tempfile_in(directory)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    std::fs::File::open(directory)?.sync_all()?;
    Ok(())
}
