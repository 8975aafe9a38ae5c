//! [`ShellTools`]: run a shell command in a directory under a root; list a directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kern_core::ToolError;
use kern_macros::{Toolkit, toolkit_methods};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::contain::Supervised;
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
/// **clean environment**: only `PATH`, `HOME` and `LANG` of the host's variables (`PATH` falls
/// back to `/usr/local/bin:/usr/bin:/bin`), plus the ones the host passes on by name
/// ([`pass_env`](Self::pass_env)) or sets ([`env`](Self::env)). Nothing else of the program's
/// environment, an API key say, reaches a command, and so the model. Limits:
/// - [`timeout`](Self::timeout) (30 s): past it, the command and everything it started are
///   killed (SIGKILL) and the call fails with a tool error saying so, with the output read until
///   then;
/// - [`max_output_bytes`](Self::max_output_bytes) (64 KiB for standard output, the same for
///   standard error): past it the output is still read (so the command is not blocked on a full
///   pipe) but dropped, and the result says how much there was.
///
/// Nothing a command starts outlives the call: when its shell exits, at the timeout, or when
/// the call is dropped, every process it started is killed, also those that left its process
/// group or session (`setsid`) or were orphaned on purpose. On Linux the command runs under a
/// small supervisor shell that is a *child subreaper* (`prctl(PR_SET_CHILD_SUBREAPER)`), so every
/// such process stays among its descendants, and all of them are found (in `/proc`), stopped and
/// killed; on other Unix systems the command's process group is killed (a process that left it
/// is not reached). The supervisor is the command's parent: a command that kills it on purpose
/// takes what it starts afterwards out of reach (only its process group is still killed), one
/// more reason why `run_command` is confirmed and why this is not a sandbox. A command that exits with a non-zero status is not an error: the result
/// reads `exit status: 2` (`128 + n` when the shell was killed by signal `n`, as `$?` gives it),
/// then `stdout:` and `stderr:` sections, for the model to act on.
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
    /// Host variables passed on by name, beyond the default ones.
    pass_env: Vec<String>,
    /// Variables set to a value.
    env: Vec<(String, String)>,
}

/// The host's variables a command gets by default.
#[cfg(not(windows))]
const DEFAULT_ENV: &[&str] = &["PATH", "HOME", "LANG"];
/// The host's variables a command gets by default (`cmd` needs the system's own to run).
#[cfg(windows)]
const DEFAULT_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "LANG",
    "SystemRoot",
    "ComSpec",
    "PATHEXT",
    "TEMP",
    "TMP",
    "USERPROFILE",
];
/// `PATH` when the host has none.
#[cfg(not(windows))]
const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

impl ShellTools {
    /// Shell tools whose working directories are under `root` (canonicalized at each call), with
    /// the default limits.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ShellTools {
            root: Root::new(root),
            timeout: Duration::from_secs(30),
            max_output_bytes: 64 * 1024,
            max_entries: 1000,
            pass_env: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Passes the host's variable `name` on to commands (when the host has it), beyond `PATH`,
    /// `HOME` and `LANG`. Commands get nothing else of the host's environment: an API key in
    /// it is not the model's to read.
    pub fn pass_env(mut self, name: impl Into<String>) -> Self {
        self.pass_env.push(name.into());
        self
    }

    /// Sets the variable `name` to `value` for commands (over the host's value, if passed).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The environment of a command: the default and passed host variables, then the set ones.
    fn environment(&self) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
        let mut vars: Vec<(std::ffi::OsString, std::ffi::OsString)> = Vec::new();
        let names = DEFAULT_ENV
            .iter()
            .copied()
            .chain(self.pass_env.iter().map(String::as_str));
        for name in names {
            if let Some(value) = std::env::var_os(name) {
                vars.retain(|(n, _)| n != name);
                vars.push((name.into(), value));
            }
        }
        #[cfg(not(windows))]
        if !vars.iter().any(|(n, _)| n == "PATH") {
            vars.push(("PATH".into(), FALLBACK_PATH.into()));
        }
        for (name, value) in &self.env {
            vars.retain(|(n, _)| n != name.as_str());
            vars.push((name.into(), value.into()));
        }
        vars
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
        let rel = directory.as_deref().unwrap_or(".");
        // Opened beneath the root: the shell starts in this very directory, whatever the path
        // names by the time it runs.
        let dir = self.root.dir(rel)?;
        let mut cmd = tokio::process::Command::new(if cfg!(windows) { "cmd" } else { "sh" });
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .env_clear()
            .envs(self.environment());
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let fd = dir.as_raw_fd();
            // SAFETY: runs in the child between fork and exec; fchdir(2) is async-signal-safe
            // and `fd` stays open until the exec (it is close-on-exec).
            unsafe {
                cmd.pre_exec(move || {
                    if libc::fchdir(fd) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        #[cfg(not(unix))]
        cmd.current_dir(self.root.path().join(rel));
        let mut child = Supervised::spawn(cmd, &command)
            .map_err(|e| ToolError::new(format!("the shell could not be started: {e}")))?;
        drop(dir);
        let (stdout, stderr) = child.take_output();
        let mut out = Capture::new(self.max_output_bytes);
        let mut err = Capture::new(self.max_output_bytes);

        let finished = tokio::time::timeout(self.timeout, async {
            let (status, (), ()) = tokio::join!(
                async {
                    let status = child.status().await;
                    // The command is over: end what it left behind, which closes the pipes.
                    child.kill_all();
                    status
                },
                out.read(stdout),
                err.read(stderr),
            );
            status
        })
        .await;
        child.finish().await;

        match finished {
            Ok(status) => {
                let mut text = format!("exit status: {}", status?);
                out.append("stdout", &mut text);
                err.append("stderr", &mut text);
                Ok(text)
            }
            Err(_elapsed) => {
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
