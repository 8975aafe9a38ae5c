//! [`FileTools`]: read, write, list and search files under a root directory.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use kern_core::ToolError;
use kern_macros::{Toolkit, toolkit_methods};

use cap_std::fs::{Metadata, OpenOptions};

use crate::root::{Root, beneath, check_relative, open_error, text_prefix};

/// Files under a root directory: `read_file`, `write_file`, `list_files`, `search_files`.
///
/// Every path the model gives is relative to the root. Absolute paths, paths with `..` and paths
/// that lead out of the root through a symbolic link are refused with a tool error (the model
/// sees why). `search_files` does not follow symbolic links.
///
/// **`write_file` requires confirmation** (`#[toolkit(requires_confirmation = [write_file])]`):
/// the run pauses, the host shows the path and content to a person (or checks them itself) and
/// confirms or rejects; a confirmed write is then done by the agent, with the same checks and
/// limits. Confirmation rather than external execution, because the tool knows how to write
/// safely under the root, and what the host must decide is only *whether*. Reading, listing and
/// searching run inside the agent. To drop a method, use
/// [`into_toolkit().exclude([..])`](kern_core::Toolkit::exclude).
///
/// Limits, each with a setter:
/// - [`max_read_bytes`](Self::max_read_bytes) (64 KiB): a longer file is **truncated**, with a
///   last line saying so and giving the file's size;
/// - [`max_write_bytes`](Self::max_write_bytes) (1 MiB): longer content is **refused** (a tool
///   error), nothing is written;
/// - [`max_entries`](Self::max_entries) (1000): entries of a listing, after which a line says
///   how many were left out;
/// - [`max_matches`](Self::max_matches) (100): lines found by a search, after which it stops
///   and says so. A search also reads at most 10 000 files, skips files over 1 MiB and files
///   with a NUL byte (binary), and cuts each matching line to 200 characters.
///
/// Every file and directory is opened **beneath** the root directory (with [`cap_std`]: on Linux
/// `openat2(RESOLVE_BENEATH)`, elsewhere a walk one component at a time with `O_NOFOLLOW`), so the
/// confinement holds at the moment of the open: a directory swapped for a symbolic link while a
/// call runs cannot lead out of the root. A symbolic link is followed only while it stays under
/// the root: relative links inside work, absolute links (even to a place inside) are refused.
/// Only regular files are read or written: a FIFO, a device or a socket is refused (a read from
/// one could block for ever).
///
/// ```
/// use kern_core::{Agent, ExecutionMode, IntoTools, TestModel};
/// use kern_toolkit::FileTools;
///
/// let files = FileTools::new("/srv/data").max_read_bytes(16 * 1024);
/// let mut tools = Vec::new();
/// files.into_tools(&mut tools)?;
/// let write = tools.iter().find(|t| t.definition().name == "write_file").unwrap();
/// assert_eq!(write.definition().mode, ExecutionMode::RequiresConfirmation);
///
/// // Or read-only:
/// let agent = Agent::builder()
///     .model(TestModel::new())
///     .tool(kern_core::IntoToolkit::into_toolkit(FileTools::new("/srv/data")).exclude(["write_file"]))
///     .build()?;
/// # let _ = agent;
/// # Ok::<(), kern_core::Error>(())
/// ```
#[derive(Debug, Clone, Toolkit)]
#[toolkit(crate = "kern_core", requires_confirmation = [write_file])]
pub struct FileTools {
    root: Root,
    max_read_bytes: usize,
    max_write_bytes: usize,
    max_entries: usize,
    max_matches: usize,
}

/// A search reads at most this many files.
const SEARCH_MAX_FILES: usize = 10_000;
/// A search skips files larger than this.
const SEARCH_MAX_FILE_BYTES: u64 = 1024 * 1024;
/// A matching line is cut to this many characters.
const SEARCH_MAX_LINE_CHARS: usize = 200;

impl FileTools {
    /// File tools confined to `root` (which is canonicalized at each call, so it may be created
    /// later), with the default limits.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileTools {
            root: Root::new(root),
            max_read_bytes: 64 * 1024,
            max_write_bytes: 1024 * 1024,
            max_entries: 1000,
            max_matches: 100,
        }
    }

    /// At most this many bytes of a file are read; the rest is left out, and the result says so.
    pub fn max_read_bytes(mut self, bytes: usize) -> Self {
        self.max_read_bytes = bytes;
        self
    }

    /// Content longer than this many bytes is not written (a tool error).
    pub fn max_write_bytes(mut self, bytes: usize) -> Self {
        self.max_write_bytes = bytes;
        self
    }

    /// At most this many entries of a directory are listed.
    pub fn max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries;
        self
    }

    /// A search stops after this many matching lines.
    pub fn max_matches(mut self, matches: usize) -> Self {
        self.max_matches = matches;
        self
    }

    /// The root directory, as given.
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}

#[toolkit_methods(crate = "kern_core")]
impl FileTools {
    /// Reads a text file.
    ///
    /// # Arguments
    /// * `path` - The file, relative to the root directory
    pub fn read_file(&self, path: String) -> Result<String, ToolError> {
        check_relative(&path)?;
        let root = self.root.open()?;
        let target = beneath(&path);
        // Looked at before it is opened, so a FIFO or a device is never opened at all; checked
        // again on what was opened (non-blocking), in case it was swapped in between.
        let meta = root
            .metadata(target)
            .map_err(|e| open_error(&path, &e, "a file"))?;
        check_regular(&path, &meta)?;
        let file = root
            .open_with(target, &read_options())
            .map_err(|e| open_error(&path, &e, "a file"))?;
        let meta = file.metadata()?;
        check_regular(&path, &meta)?;
        let mut bytes = Vec::new();
        let max = self.max_read_bytes;
        file.take((max as u64).saturating_add(1))
            .read_to_end(&mut bytes)?;
        if bytes.len() <= max {
            return Ok(text_prefix(&bytes, max));
        }
        let mut out = text_prefix(&bytes, max);
        let _ = write!(
            out,
            "\n[truncated: `{path}` is {} bytes; only the first {max} are shown]",
            meta.len()
        );
        Ok(out)
    }

    /// Writes a text file, creating it (and its missing directories) or replacing it.
    ///
    /// # Arguments
    /// * `path` - The file, relative to the root directory
    /// * `content` - The whole new content of the file
    pub fn write_file(&self, path: String, content: String) -> Result<String, ToolError> {
        if content.len() > self.max_write_bytes {
            return Err(ToolError::new(format!(
                "the content is {} bytes, over the limit of {} bytes: nothing was written",
                content.len(),
                self.max_write_bytes
            )));
        }
        check_relative(&path)?;
        let target = Path::new(&path);
        let Some(name) = target.file_name() else {
            return Err(ToolError::new(format!("`{path}` does not name a file")));
        };
        let root = self.root.open()?;
        // The parent directory, created if missing, opened beneath the root; the file is then
        // opened by its name in that directory.
        let parent = match target.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => match root.open_dir(parent) {
                Ok(dir) => dir,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // Created beneath the root too: a link on the way out is refused.
                    root.create_dir_all(parent)
                        .map_err(|e| open_error(&path, &e, "a directory"))?;
                    root.open_dir(parent)
                        .map_err(|e| open_error(&path, &e, "a directory"))?
                }
                Err(e) => return Err(open_error(&path, &e, "a directory")),
            },
            None => root,
        };
        if let Ok(meta) = parent.metadata(name) {
            if meta.is_dir() {
                return Err(ToolError::new(format!("`{path}` is a directory")));
            }
            check_regular(&path, &meta)?;
        }
        let mut file = parent.open_with(name, &write_options()).map_err(|e| {
            match open_error(&path, &e, "a file") {
                error if e.kind() == std::io::ErrorKind::NotFound => ToolError::new(format!(
                    "`{path}` cannot be written (a symbolic link to a missing file?): {}",
                    error.message()
                )),
                error => error,
            }
        })?;
        check_regular(&path, &file.metadata()?)?;
        file.write_all(content.as_bytes())?;
        Ok(format!("wrote {} bytes to `{path}`", content.len()))
    }

    /// Lists a directory: one entry a line, directories ending in `/`, symbolic links in `@`.
    ///
    /// # Arguments
    /// * `directory` - The directory, relative to the root directory (default: the root)
    pub fn list_files(&self, directory: Option<String>) -> Result<String, ToolError> {
        self.root
            .list(directory.as_deref().unwrap_or("."), self.max_entries)
    }

    /// Searches the text files under a directory for lines containing a text (case-sensitive);
    /// gives `path:line: text` for each.
    ///
    /// # Arguments
    /// * `pattern` - The text to look for (not a regular expression)
    /// * `directory` - Where to search, relative to the root directory (default: the root)
    pub fn search_files(
        &self,
        pattern: String,
        directory: Option<String>,
    ) -> Result<String, ToolError> {
        if pattern.is_empty() {
            return Err(ToolError::new("the pattern is empty"));
        }
        let rel = directory.as_deref().unwrap_or(".");
        let start = self.root.dir(rel)?;
        // Paths are shown relative to the root.
        let shown_start = Path::new(rel)
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect::<PathBuf>();
        let mut out = String::new();
        let mut matches = 0usize;
        let mut files = 0usize;
        let mut stack = vec![(start, shown_start)];
        let mut stopped = None;
        'walk: while let Some((dir, shown_dir)) = stack.pop() {
            let Ok(read) = dir.entries() else {
                continue;
            };
            let mut entries: Vec<_> = read.filter_map(Result::ok).collect();
            entries.sort_by_key(|e| e.file_name());
            let mut subdirs = Vec::new();
            for entry in entries {
                // `DirEntry::file_type` does not follow symbolic links: they are skipped.
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let shown = shown_dir.join(entry.file_name());
                if kind.is_dir() {
                    if let Ok(sub) = entry.open_dir() {
                        subdirs.push((sub, shown));
                    }
                    continue;
                }
                if !kind.is_file() {
                    continue;
                }
                if files == SEARCH_MAX_FILES {
                    stopped = Some(format!(
                        "[search stopped: it reads at most {SEARCH_MAX_FILES} files]"
                    ));
                    break 'walk;
                }
                files += 1;
                let Ok(file) = entry.open_with(&read_options()) else {
                    continue;
                };
                if file
                    .metadata()
                    .map_or(true, |m| !m.is_file() || m.len() > SEARCH_MAX_FILE_BYTES)
                {
                    continue;
                }
                let mut bytes = Vec::new();
                if file
                    .take(SEARCH_MAX_FILE_BYTES)
                    .read_to_end(&mut bytes)
                    .is_err()
                {
                    continue;
                }
                if bytes.contains(&0) {
                    continue;
                }
                let text = String::from_utf8_lossy(&bytes);
                for (number, line) in text.lines().enumerate() {
                    if !line.contains(pattern.as_str()) {
                        continue;
                    }
                    if matches == self.max_matches {
                        stopped = Some(format!(
                            "[search stopped after {} matching lines]",
                            self.max_matches
                        ));
                        break 'walk;
                    }
                    matches += 1;
                    let mut line_shown: String = line.chars().take(SEARCH_MAX_LINE_CHARS).collect();
                    if line_shown.len() < line.len() {
                        line_shown.push('…');
                    }
                    let _ = writeln!(
                        out,
                        "{}:{}: {}",
                        shown.display(),
                        number + 1,
                        line_shown.trim_end()
                    );
                }
            }
            // Subdirectories after this directory's files, in name order (popped from the end).
            stack.extend(subdirs.into_iter().rev());
        }
        if matches == 0 && stopped.is_none() {
            return Ok(format!("no line contains `{pattern}` under `{rel}`"));
        }
        if let Some(note) = stopped {
            out.push_str(&note);
        } else if out.ends_with('\n') {
            out.pop();
        }
        Ok(out)
    }
}

/// Refuses what is not a regular file (a FIFO, a device, a socket): reading one could block the
/// call for ever, or have effects.
fn check_regular(path: &str, meta: &Metadata) -> Result<(), ToolError> {
    if meta.is_dir() {
        return Err(ToolError::new(format!(
            "`{path}` is a directory: use list_files"
        )));
    }
    if !meta.is_file() {
        return Err(ToolError::new(format!(
            "`{path}` is not a regular file (a FIFO, a device or a socket): refused"
        )));
    }
    Ok(())
}

/// Opening to read: non-blocking, so that a FIFO swapped in after the check does not block the
/// open (it is then refused, being no regular file); never the controlling terminal.
fn read_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options
}

/// Opening to write: created or truncated, non-blocking (a FIFO without a reader fails instead
/// of blocking). Like every open here, a symbolic link is followed only beneath the root.
fn write_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options
}
