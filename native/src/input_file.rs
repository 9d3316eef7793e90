//! Reading input files within a memory budget: regular files are sized before they are read,
//! pipes and FIFOs are read as bounded streams, and anything else (devices, directories) is
//! refused, so that no input can hang the command or exhaust the machine.

use crate::cli::flag_error;
use anyhow::{bail, Context, Result};
use reps::formats::{human_bytes, ReadBudget};
use std::io::Read;
use std::path::Path;

/// Parses a size for `--max-memory`: a number of bytes, optionally with a binary unit (`K`, `M`,
/// `G`, `T`, also written `KiB`, `MB`, ...; all mean powers of 1024). `1.5G` is 1.5 GiB.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 4G, 512M, 1000000)"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (use K, M, G or T)"
            ))
        }
    };
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("'{text}' is not a usable size"));
    }
    Ok(bytes as u64)
}

/// Reads `path` whole, claiming its bytes from `budget` first.
///
/// A regular file's size is claimed before reading; a pipe or FIFO is read as a stream that
/// stops with an error once it exceeds what the budget has left (a FIFO without a writer reads as
/// empty instead of blocking); a device, a directory or a socket is refused.
pub fn read_input(path: &Path, budget: &mut ReadBudget) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {name}"))?;
    let kind = meta.file_type();
    if kind.is_file() {
        budget
            .claim(&name, "the file", meta.len())
            .map_err(flag_error)?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(meta.len() as usize).map_err(|_| {
            anyhow::anyhow!("{name}: not enough memory to read its {} bytes", meta.len())
        })?;
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {name}"))?;
        return Ok(bytes);
    }
    if is_fifo(&meta) {
        let file = open_fifo(path).with_context(|| format!("cannot read {name}"))?;
        let limit = budget.remaining();
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {name}"))?;
        if bytes.len() as u64 > limit {
            bail!(
                "{name}: the stream is larger than the {} left of the memory budget; save it to a file, or raise --max-memory",
                human_bytes(limit)
            );
        }
        budget
            .claim(&name, "the stream", bytes.len() as u64)
            .map_err(flag_error)?;
        return Ok(bytes);
    }
    bail!(
        "{name}: is {}, not a file; give a regular file (or a pipe)",
        describe(&meta)
    )
}

#[cfg(unix)]
fn is_fifo(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::Metadata) -> bool {
    false
}

/// Opens a FIFO without blocking when no writer has it open (then it reads as empty), and
/// switches the descriptor back to blocking reads.
#[cfg(unix)]
fn open_fifo(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function owns; only the O_NONBLOCK flag is cleared.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(file)
}

#[cfg(not(unix))]
fn open_fifo(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

fn describe(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Opens `path` to be read in row chunks (`reps::formats::stream::FileSource`); what is not a
/// regular file is refused, saying what it is.
pub fn open_source(path: &Path) -> Result<reps::formats::stream::FileSource> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {name}"))?;
    if !meta.file_type().is_file() {
        bail!(
            "{name}: is {}; reading in row chunks needs a regular file",
            describe(&meta)
        );
    }
    Ok(reps::formats::stream::FileSource::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").unwrap_err().contains("unknown unit 'X'"));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
    }

    #[test]
    fn devices_and_directories_are_refused_and_files_claimed() {
        let mut budget = ReadBudget::new(1 << 20);
        let e = read_input(Path::new("/dev/zero"), &mut budget).unwrap_err();
        assert!(e.to_string().contains("is a character device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = read_input(dir.path(), &mut budget).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        let f = dir.path().join("x.npy");
        std::fs::write(&f, [7u8; 1000]).unwrap();
        assert_eq!(read_input(&f, &mut budget).unwrap().len(), 1000);
        assert_eq!(budget.used(), 1000);
        let mut small = ReadBudget::new(999);
        let e = read_input(&f, &mut small).unwrap_err().to_string();
        assert!(
            e.contains("the file needs 1000 B") && e.contains("memory budget of 999 B"),
            "{e}"
        );
    }
}
