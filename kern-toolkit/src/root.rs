//! Paths confined to a root directory, shared by [`FileTools`](crate::FileTools) and
//! [`ShellTools`](crate::ShellTools).
//!
//! A path the model gives is relative to the root. It is refused when it is absolute or has a
//! `..` component. It is then opened **beneath** the root directory, which is opened first, by
//! [`cap_std`]: on Linux with `openat2(RESOLVE_BENEATH)`, elsewhere one component at a time with
//! `O_NOFOLLOW`, symbolic links resolved by hand. A symbolic link is followed only while it stays
//! under the root (an absolute link, or one whose `..` climbs out, is refused), and this holds
//! at the moment of the open, not at an earlier check: a directory swapped for a link in between
//! cannot lead out.

use std::fmt::Write as _;
use std::io;
use std::path::{Component, Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use kern_core::ToolError;

/// A root directory, opened at every use, so the root may be created after the toolkit.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    path: PathBuf,
}

impl Root {
    pub(crate) fn new(path: impl Into<PathBuf>) -> Self {
        Root { path: path.into() }
    }

    /// The root as configured.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The root directory, opened (the one place a path is followed outside the root: the
    /// root's own).
    pub(crate) fn open(&self) -> Result<Dir, ToolError> {
        Dir::open_ambient_dir(&self.path, ambient_authority()).map_err(|e| {
            ToolError::new(format!(
                "the root directory `{}` is not accessible: {e}",
                self.path.display()
            ))
        })
    }

    /// The directory `rel` under the root, opened beneath it.
    pub(crate) fn dir(&self, rel: &str) -> Result<Dir, ToolError> {
        check_relative(rel)?;
        let root = self.open()?;
        root.open_dir(beneath(rel))
            .map_err(|e| open_error(rel, &e, "a directory"))
    }

    /// The entries of the directory `rel`, sorted, directories with a trailing `/`, at most
    /// `max` of them (then a line saying how many were left out).
    pub(crate) fn list(&self, rel: &str, max: usize) -> Result<String, ToolError> {
        let dir = self.dir(rel)?;
        let mut names = Vec::new();
        for entry in dir.entries()? {
            let entry = entry?;
            let mut name = entry.file_name().to_string_lossy().into_owned();
            match entry.file_type() {
                Ok(t) if t.is_dir() => name.push('/'),
                Ok(t) if t.is_symlink() => name.push('@'),
                _ => {}
            }
            names.push(name);
        }
        names.sort();
        let total = names.len();
        if total == 0 {
            return Ok(format!("`{rel}` is empty"));
        }
        let mut out = names.into_iter().take(max).collect::<Vec<_>>().join("\n");
        if total > max {
            let _ = write!(
                out,
                "\n[{} more entries not shown: the limit is {max}]",
                total - max
            );
        }
        Ok(out)
    }
}

/// `rel` as a path to open beneath a directory: `.` for the directory itself.
pub(crate) fn beneath(rel: &str) -> &Path {
    if rel.is_empty() {
        Path::new(".")
    } else {
        Path::new(rel)
    }
}

/// The tool error for a failed open of `rel` (`what`: "a file", "a directory").
pub(crate) fn open_error(rel: &str, e: &io::Error, what: &str) -> ToolError {
    if is_escape(e) {
        return ToolError::new(format!(
            "`{rel}` leads outside the root directory (through a symbolic link, or an absolute \
             one): refused"
        ));
    }
    match e.kind() {
        io::ErrorKind::NotFound => ToolError::new(format!("`{rel}` does not exist")),
        io::ErrorKind::NotADirectory => ToolError::new(format!(
            "`{rel}` is not a directory (or a part of it is a file)"
        )),
        io::ErrorKind::IsADirectory => ToolError::new(format!("`{rel}` is a directory")),
        _ if e.raw_os_error() == Some(libc_eloop()) => {
            ToolError::new(format!("`{rel}`: too many levels of symbolic links"))
        }
        _ => ToolError::new(format!("`{rel}` cannot be opened as {what}: {e}")),
    }
}

/// Whether cap-std refused a path for leaving the directory it was opened beneath.
fn is_escape(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
        && e.raw_os_error().is_none()
        && e.to_string().contains("outside of the filesystem")
}

#[cfg(unix)]
fn libc_eloop() -> i32 {
    libc::ELOOP
}

#[cfg(not(unix))]
fn libc_eloop() -> i32 {
    -1
}

/// Refuses absolute paths and `..` components.
pub(crate) fn check_relative(rel: &str) -> Result<(), ToolError> {
    if rel.contains('\0') {
        return Err(ToolError::new(format!(
            "`{}` contains a NUL byte",
            rel.escape_debug()
        )));
    }
    for component in Path::new(rel).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                return Err(ToolError::new(format!(
                    "`{rel}` is an absolute path: paths must be relative to the root directory"
                )));
            }
            Component::ParentDir => {
                return Err(ToolError::new(format!(
                    "`{rel}` contains `..`: paths must stay inside the root directory"
                )));
            }
            Component::CurDir | Component::Normal(_) => {}
        }
    }
    Ok(())
}

/// The first `max` bytes of `bytes` as text (invalid UTF-8 replaced; a character cut at the end
/// dropped).
pub(crate) fn text_prefix(bytes: &[u8], max: usize) -> String {
    let end = bytes.len().min(max);
    lossy(&bytes[..end], end < bytes.len())
}

/// `bytes` as text, invalid UTF-8 replaced; when `cut` (the bytes are a prefix), a character cut
/// at the end is dropped rather than replaced.
pub(crate) fn lossy(bytes: &[u8], cut: bool) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(e) if cut && e.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert!(check_relative("a/b.txt").is_ok());
        assert!(check_relative("./a").is_ok());
        assert!(check_relative("").is_ok());
        assert!(check_relative("/etc/passwd").is_err());
        assert!(check_relative("a/../../b").is_err());
        assert!(check_relative("..").is_err());
        assert!(check_relative("a\0b").is_err());
    }

    #[test]
    fn text_prefix_cuts_on_a_character() {
        assert_eq!(text_prefix("héllo".as_bytes(), 2), "h");
        assert_eq!(text_prefix("héllo".as_bytes(), 3), "hé");
        assert_eq!(text_prefix(b"abc", 10), "abc");
        assert_eq!(text_prefix(b"a\xffb", 10), "a\u{fffd}b");
    }
}
