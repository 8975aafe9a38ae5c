//! Paths confined to a root directory, shared by [`FileTools`](crate::FileTools) and
//! [`ShellTools`](crate::ShellTools).
//!
//! A path the model gives is relative to the root. It is refused when it is absolute, has a `..`
//! component, or resolves (symbolic links followed, by `canonicalize`) to a place outside the
//! canonical root. A file to write that does not exist yet is checked through its deepest
//! existing ancestor.

use std::fmt::Write as _;
use std::io;
use std::path::{Component, Path, PathBuf};

use kern_core::ToolError;

/// A root directory. Canonicalized at every use, so the root may be created after the toolkit.
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

    /// The canonical root.
    pub(crate) fn canonical(&self) -> Result<PathBuf, ToolError> {
        std::fs::canonicalize(&self.path).map_err(|e| {
            ToolError::new(format!(
                "the root directory `{}` is not accessible: {e}",
                self.path.display()
            ))
        })
    }

    /// The canonical path of an existing file or directory under the root.
    pub(crate) fn resolve(&self, rel: &str) -> Result<PathBuf, ToolError> {
        check_relative(rel)?;
        let root = self.canonical()?;
        let joined = root.join(rel);
        let canonical = std::fs::canonicalize(&joined).map_err(|e| not_found(rel, &e))?;
        inside(&root, &canonical, rel)?;
        Ok(canonical)
    }

    /// The canonical path of an existing directory under the root.
    pub(crate) fn resolve_dir(&self, rel: &str) -> Result<PathBuf, ToolError> {
        let dir = self.resolve(rel)?;
        if !dir.is_dir() {
            return Err(ToolError::new(format!("`{rel}` is not a directory")));
        }
        Ok(dir)
    }

    /// Where to write the file `rel`: an existing file (symbolic links followed and checked), or
    /// a new one whose deepest existing ancestor is a directory under the root. Missing
    /// directories between them are created.
    pub(crate) fn resolve_for_write(&self, rel: &str) -> Result<PathBuf, ToolError> {
        check_relative(rel)?;
        if Path::new(rel).file_name().is_none() {
            return Err(ToolError::new(format!("`{rel}` does not name a file")));
        }
        let root = self.canonical()?;
        let joined = root.join(rel);
        match std::fs::symlink_metadata(&joined) {
            Ok(_) => {
                let canonical = std::fs::canonicalize(&joined).map_err(|e| {
                    ToolError::new(format!(
                        "`{rel}` cannot be resolved (a symbolic link to a missing target?): {e}"
                    ))
                })?;
                inside(&root, &canonical, rel)?;
                if canonical.is_dir() {
                    return Err(ToolError::new(format!("`{rel}` is a directory")));
                }
                Ok(canonical)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // The deepest ancestor that exists (at worst the root itself).
                let mut ancestor = joined.as_path();
                loop {
                    ancestor = ancestor.parent().unwrap_or(&root);
                    if std::fs::symlink_metadata(ancestor).is_ok() || ancestor == root {
                        break;
                    }
                }
                let existing = std::fs::canonicalize(ancestor).map_err(|e| {
                    ToolError::new(format!(
                        "`{rel}`: a parent directory cannot be resolved: {e}"
                    ))
                })?;
                inside(&root, &existing, rel)?;
                if !existing.is_dir() {
                    return Err(ToolError::new(format!(
                        "`{rel}`: a parent is a file, not a directory"
                    )));
                }
                // What is left are plain names (no `..`: checked above) that do not exist yet.
                let rest = joined.strip_prefix(ancestor).map_err(|_| {
                    ToolError::new(format!("`{rel}` cannot be resolved under the root"))
                })?;
                let target = existing.join(rest);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                Ok(target)
            }
            Err(e) => Err(ToolError::new(format!("`{rel}`: {e}"))),
        }
    }

    /// `path` (under the canonical root) relative to it, for output.
    pub(crate) fn display(root: &Path, path: &Path) -> String {
        match path.strip_prefix(root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }

    /// The entries of the directory `rel`, sorted, directories with a trailing `/`, at most
    /// `max` of them (then a line saying how many were left out).
    pub(crate) fn list(&self, rel: &str, max: usize) -> Result<String, ToolError> {
        let dir = self.resolve_dir(rel)?;
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
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

fn inside(root: &Path, canonical: &Path, rel: &str) -> Result<(), ToolError> {
    if canonical.starts_with(root) {
        Ok(())
    } else {
        Err(ToolError::new(format!(
            "`{rel}` leads outside the root directory (through a symbolic link): refused"
        )))
    }
}

fn not_found(rel: &str, e: &io::Error) -> ToolError {
    if e.kind() == io::ErrorKind::NotFound {
        ToolError::new(format!("`{rel}` does not exist"))
    } else {
        ToolError::new(format!("`{rel}`: {e}"))
    }
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
