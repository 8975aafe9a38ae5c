//! [`ShellTools`]: run a shell command in a directory under a root; list a directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kern_core::ToolError;
use kern_macros::{Toolkit, toolkit_methods};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::root::{Root, lossy};

/// Shell commands in a working directory under a root: `run_command`, `list_dir`.
///
/// **`run_command` requires confirmation**
/// (`#[toolkit(requires_confirmation = [run_command])]`): the run pauses with the command, the
/// host (or a person) confirms or rejects it, and a confirmed command is run by the agent with
/// the limits below. `list_dir` runs inside the agent. To drop a method, use
/// [`into_toolkit().exclude([..])`](kern_core::Toolkit::exclude).
///
/// The root confines the **working directory** (`directory` is relative to the root; `..`,
/// absolute paths and symbolic links out of it are refused). It is not a sandbox: the command
/// itself may `cd` anywhere and do what the user running the program may do. That is why it is
/// confirmed.
///
/// A command runs as `sh -c <command>` (on Windows `cmd /C`), with standard input closed, in a
/// process group of its own (Unix). Limits:
/// - [`timeout`](Self::timeout) (30 s): past it, the whole process group is killed (SIGKILL) and
///   the call fails with a tool error saying so, with the output read until then;
/// - [`max_output_bytes`](Self::max_output_bytes) (64 KiB for standard output, the same for
///   standard error): past it the output is still read (so the command is not blocked on a full
///   pipe) but dropped, and the result says how much there was.
///
/// When the command's shell exits, what it left running in its process group is killed too, so
/// nothing it started outlives the call (a process that leaves the group, with `setsid`, is not
/// tracked). A command that exits with a non-zero status is not an error: the result reads
/// `exit status: 2`, then `stdout:` and `stderr:` sections, for the model to act on.
///
/// ```
/// use std::time::Duration;
/// use kern_core::{ExecutionMode, IntoTools};
/// use kern_toolkit::ShellTools;
///
/// let shell = ShellTools::new("/srv/project")
///     .timeout(Duration::from_secs(10))
///     .max_output_bytes(16 * 1024);
/// let mut tools = Vec::new();
/// shell.into_tools(&mut tools)?;
/// assert_eq!(tools[0].definition().name, "run_command");
/// assert_eq!(tools[0].definition().mode, ExecutionMode::RequiresConfirmation);
/// assert_eq!(tools[1].definition().mode, ExecutionMode::Internal);
/// # Ok::<(), kern_core::Error>(())
/// ```
#[derive(Debug, Clone, Toolkit)]
#[toolkit(crate = "kern_core", requires_confirmation = [run_command])]
pub struct ShellTools {
    root: Root,
    timeout: Duration,
    max_output_bytes: usize,
    max_entries: usize,
}

impl ShellTools {
    /// Shell tools whose working directories are under `root` (canonicalized at each call), with
    /// the default limits.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ShellTools {
            root: Root::new(root),
            timeout: Duration::from_secs(30),
            max_output_bytes: 64 * 1024,
            max_entries: 1000,
        }
    }

    /// How long a command may run before it is killed.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many bytes of standard output, and as many of standard error, are kept.
    pub fn max_output_bytes(mut self, bytes: usize) -> Self {
        self.max_output_bytes = bytes;
        self
    }

    /// At most this many entries of a directory are listed.
    pub fn max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries;
        self
    }

    /// The root directory, as given.
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}

#[toolkit_methods(crate = "kern_core")]
impl ShellTools {
    /// Runs a shell command and gives its exit status, standard output and standard error.
    ///
    /// # Arguments
    /// * `command` - The shell command line
    /// * `directory` - The working directory, relative to the root directory (default: the root)
    pub async fn run_command(
        &self,
        command: String,
        directory: Option<String>,
    ) -> Result<String, ToolError> {
        let dir = self.root.resolve_dir(directory.as_deref().unwrap_or("."))?;
        let mut cmd = shell_command(&command);
        cmd.current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| ToolError::new(format!("the shell could not be started: {e}")))?;
        // Kills the process group however this future ends (also when it is dropped).
        let group = GroupKill::new(child.id());
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut out = Capture::new(self.max_output_bytes);
        let mut err = Capture::new(self.max_output_bytes);

        let finished = tokio::time::timeout(self.timeout, async {
            let (status, (), ()) = tokio::join!(
                async {
                    let status = child.wait().await;
                    // The shell is gone: end what it left behind, which closes the pipes.
                    group.kill();
                    status
                },
                out.read(stdout),
                err.read(stderr),
            );
            status
        })
        .await;

        match finished {
            Ok(status) => {
                let status = status?;
                let mut text = match status.code() {
                    Some(code) => format!("exit status: {code}"),
                    None => status.to_string(),
                };
                out.append("stdout", &mut text);
                err.append("stderr", &mut text);
                Ok(text)
            }
            Err(_elapsed) => {
                group.kill();
                let _ = child.kill().await;
                let mut text = format!(
                    "the command timed out after {:?} and was killed",
                    self.timeout
                );
                out.append("stdout", &mut text);
                err.append("stderr", &mut text);
                Err(ToolError::new(text))
            }
        }
    }

    /// Lists a directory: one entry a line, directories ending in `/`, symbolic links in `@`.
    ///
    /// # Arguments
    /// * `directory` - The directory, relative to the root directory (default: the root)
    pub fn list_dir(&self, directory: Option<String>) -> Result<String, ToolError> {
        self.root
            .list(directory.as_deref().unwrap_or("."), self.max_entries)
    }
}

fn shell_command(command: &str) -> tokio::process::Command {
    if cfg!(windows) {
        let mut cmd = tokio::process::Command::new("cmd");
        cmd.arg("/C").arg(command);
        cmd
    } else {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c").arg(command);
        cmd
    }
}

/// The process group of a child started with `process_group(0)`: its id is the child's pid.
/// Killed once: after that the id may in time name another group.
#[cfg_attr(not(unix), allow(dead_code))]
struct GroupKill {
    pid: Option<u32>,
    done: std::sync::atomic::AtomicBool,
}

impl GroupKill {
    fn new(pid: Option<u32>) -> Self {
        GroupKill {
            pid,
            done: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn kill(&self) {
        if self.done.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        #[cfg(unix)]
        if let Some(pid) = self
            .pid
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| *p > 0)
        {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is
            // involved. An already empty group gives ESRCH, which is ignored.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The first `max` bytes of a stream, and how many there were in all.
struct Capture {
    max: usize,
    kept: Vec<u8>,
    total: u64,
}

impl Capture {
    fn new(max: usize) -> Self {
        Capture {
            max,
            kept: Vec::new(),
            total: 0,
        }
    }

    /// Reads the stream to its end (or first error), keeping the first `max` bytes.
    async fn read(&mut self, stream: Option<impl AsyncRead + Unpin>) {
        let Some(mut stream) = stream else { return };
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    self.total += n as u64;
                    let room = self.max.saturating_sub(self.kept.len());
                    self.kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
    }

    /// `\n<name>:\n<text>` (and a line when it was cut).
    fn append(&self, name: &str, out: &mut String) {
        let _ = write!(
            out,
            "\n{name}:\n{}",
            lossy(&self.kept, self.total > self.kept.len() as u64)
        );
        if self.total > self.kept.len() as u64 {
            let _ = write!(
                out,
                "\n[{name} truncated: {} bytes in all, the first {} shown]",
                self.total,
                self.kept.len()
            );
        }
    }
}
