//! Reading one configuration file, bounded and without ever blocking.

use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub(super) enum ReadError {
    /// keepalived skips such a file with a message: not regular, or executable.
    Skip(String),
    /// It cannot be used: missing, unreadable, too large, binary.
    Refuse(String),
}

/// Read a whole regular file of at most `limit` bytes. Never blocks: the type is
/// checked with `stat` before `open` (a FIFO, a device such as `/dev/zero`, a socket
/// are skipped as keepalived skips them), and the open itself is non-blocking, so a
/// FIFO swapped in between the two is found by `fstat` instead of hanging the reader.
pub(super) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let kind_ok = |m: &std::fs::Metadata| -> Result<(), ReadError> {
        if m.is_dir() {
            return Err(ReadError::Skip("a directory".into()));
        }
        if !m.is_file() || m.permissions().mode() & 0o111 != 0 {
            return Err(ReadError::Skip("not a regular non-executable file".into()));
        }
        if m.len() > limit {
            return Err(ReadError::Refuse(format!(
                "{} bytes is more than the {} bytes a configuration may read",
                m.len(),
                limit
            )));
        }
        Ok(())
    };
    let meta = std::fs::metadata(path).map_err(|e| ReadError::Refuse(e.to_string()))?;
    kind_ok(&meta)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| ReadError::Refuse(e.to_string()))?;
    let opened = file
        .metadata()
        .map_err(|e| ReadError::Refuse(e.to_string()))?;
    kind_ok(&opened)?;
    // A regular file of size 0 holds nothing, unless it is a kernel pseudo-file whose
    // read blocks or consumes (`/proc/kmsg`): not read. O_NONBLOCK stays set: it
    // changes nothing for a real file, and anything else fails with EAGAIN rather
    // than hang the reader.
    if opened.len() == 0 {
        return Ok(Vec::new());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Refuse(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::Refuse(format!(
            "more than the {limit} bytes a configuration may read"
        )));
    }
    Ok(bytes)
}
