//! Keeping everything a shell command starts within reach, so that all of it can be killed.
//!
//! A process group is not enough: a command can leave it (`setsid`), and when its parent exits
//! it is adopted by init, out of sight. So on Unix the command runs under a small supervisor,
//! a shell that
//!
//! - is made a *child subreaper* (Linux `prctl(PR_SET_CHILD_SUBREAPER)`, set between `fork` and
//!   `exec`, kept across `exec`): every process below it whose parent dies is adopted by it, not
//!   by init, so everything the command starts stays among its descendants;
//! - runs the command as `sh -c <command>` with standard input closed, reports its exit status
//!   on a pipe of its own, and then waits, alive, until it is killed.
//!
//! Once the status came, or at the timeout, or when the call is dropped, [`Supervised::kill_all`]
//! walks `/proc` for every descendant of the supervisor, stops them all (so none can start
//! more), kills them, then kills the process group and the supervisor. The supervisor is our
//! child and not reaped before that, so its pid, and with it the tree, cannot be another's.
//!
//! Where there is no subreaper (other Unix systems) the process group is killed as before: a
//! process that left it is not reached. On Windows the command's process is killed.

use std::io;

/// A command running under its supervisor.
pub(crate) struct Supervised {
    child: tokio::process::Child,
    #[cfg(unix)]
    status: Option<tokio::net::unix::pipe::Receiver>,
    /// Held open while the supervisor must wait (it reads its standard input until the end).
    #[cfg(unix)]
    _hold: Option<tokio::process::ChildStdin>,
    #[cfg_attr(not(unix), allow(dead_code))]
    pid: Option<u32>,
    killed: bool,
}

/// The supervisor's script: `$1` is the command.
#[cfg(unix)]
const SUPERVISOR: &str = "sh -c \"$1\" sh 3>&- </dev/null; echo $? >&3; exec 3>&-; read -r _";

impl Supervised {
    /// Starts `command` (a shell command line) with `cmd`'s settings (working directory,
    /// environment, output pipes), which must be `sh` or `cmd` without arguments yet.
    #[cfg(unix)]
    pub(crate) fn spawn(mut cmd: tokio::process::Command, command: &str) -> io::Result<Self> {
        use std::os::fd::{AsRawFd, OwnedFd};
        use std::process::Stdio;

        let (reader, writer) = std::io::pipe()?;
        let writer_fd = writer.as_raw_fd();
        cmd.arg("-c")
            .arg(SUPERVISOR)
            .arg("kern-shell")
            .arg(command)
            .stdin(Stdio::piped())
            .process_group(0);
        // SAFETY: the closure runs in the child between fork and exec and calls only
        // async-signal-safe functions (dup2, fcntl, prctl) on plain integers; it allocates
        // nothing and touches no lock.
        unsafe {
            cmd.pre_exec(move || {
                if writer_fd == 3 {
                    // Already in place: only keep it across exec.
                    let flags = libc::fcntl(3, libc::F_GETFD);
                    if flags < 0 || libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                } else if libc::dup2(writer_fd, 3) < 0 {
                    return Err(io::Error::last_os_error());
                }
                #[cfg(target_os = "linux")]
                if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn()?;
        // Only the supervisor keeps the writing end: the pipe ends when it has written.
        drop(writer);
        let status = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(reader))?;
        let hold = child.stdin.take();
        let pid = child.id();
        Ok(Supervised {
            child,
            status: Some(status),
            _hold: hold,
            pid,
            killed: false,
        })
    }

    /// Starts `command` with `cmd`'s settings (Windows: `cmd /C`, killed alone).
    #[cfg(not(unix))]
    pub(crate) fn spawn(mut cmd: tokio::process::Command, command: &str) -> io::Result<Self> {
        cmd.arg("/C")
            .arg(command)
            .stdin(std::process::Stdio::null());
        let child = cmd.spawn()?;
        let pid = child.id();
        Ok(Supervised {
            child,
            pid,
            killed: false,
        })
    }

    /// The command's standard output and error pipes.
    pub(crate) fn take_output(
        &mut self,
    ) -> (
        Option<tokio::process::ChildStdout>,
        Option<tokio::process::ChildStderr>,
    ) {
        (self.child.stdout.take(), self.child.stderr.take())
    }

    /// Waits for the command's exit status (what `$?` gives: 128 + n for a signal n).
    #[cfg(unix)]
    pub(crate) async fn status(&mut self) -> io::Result<i32> {
        use tokio::io::AsyncReadExt;
        let mut text = String::new();
        if let Some(status) = self.status.as_mut() {
            status.read_to_string(&mut text).await?;
        }
        text.trim().parse().map_err(|_| {
            io::Error::other("the command's supervisor ended without giving its exit status")
        })
    }

    /// Waits for the command's exit status.
    #[cfg(not(unix))]
    pub(crate) async fn status(&mut self) -> io::Result<i32> {
        let status = self.child.wait().await?;
        Ok(status.code().unwrap_or(-1))
    }

    /// Kills the command and everything it started (once; later calls do nothing), then reaps
    /// the supervisor.
    pub(crate) async fn finish(&mut self) {
        self.kill_all();
        let _ = self.child.wait().await;
    }

    /// Kills every descendant of the supervisor, its process group and the supervisor. Done
    /// once, before the supervisor is reaped: afterwards its pid may be another process's.
    pub(crate) fn kill_all(&mut self) {
        if std::mem::replace(&mut self.killed, true) {
            return;
        }
        #[cfg(unix)]
        if let Some(pid) = self
            .pid
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| *p > 1)
        {
            #[cfg(target_os = "linux")]
            kill_descendants(pid);
            // SAFETY: kill(2) signals a process or, with a negative pid, a process group; no
            // memory is involved. An already empty group gives ESRCH, which is ignored.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
                libc::kill(pid, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        // The call was dropped (or is done): nothing of the command outlives it. The
        // supervisor, killed, is reaped by tokio (`kill_on_drop`).
        self.kill_all();
    }
}

/// Stops, then kills, every descendant of `root` (Linux, from `/proc`). A process stopped cannot
/// fork again; the tree is read again until no new descendant shows, at most a bounded number
/// of times (a process forking as fast as it can is caught by the next pass).
#[cfg(target_os = "linux")]
fn kill_descendants(root: i32) {
    let mut stopped: Vec<i32> = Vec::new();
    for _ in 0..64 {
        let found: Vec<i32> = descendants(root)
            .into_iter()
            .filter(|pid| !stopped.contains(pid))
            .collect();
        if found.is_empty() {
            break;
        }
        for pid in found {
            // SAFETY: as above: a signal to a process of ours (below our own child, which is
            // not reaped, so the tree is the one it started).
            unsafe {
                libc::kill(pid, libc::SIGSTOP);
            }
            stopped.push(pid);
        }
    }
    for pid in stopped {
        // SAFETY: as above.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// The pids below `root`, from the parent pid of every process in `/proc`.
#[cfg(target_os = "linux")]
fn descendants(root: i32) -> Vec<i32> {
    let mut parents: Vec<(i32, i32)> = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; `comm` may hold spaces and parentheses: read after the
        // last `)`.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<i32>().ok());
        if let Some(ppid) = ppid {
            parents.push((pid, ppid));
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent && pid != root && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn descendants_of_this_process_include_a_child_and_its_child() {
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 30 & wait")
            .spawn()
            .unwrap();
        let me = std::process::id() as i32;
        let child_pid = child.id() as i32;
        let mut found = Vec::new();
        for _ in 0..200 {
            found = descendants(me);
            if found.len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(found.contains(&child_pid), "{found:?}");
        assert!(found.len() >= 2, "the sleep below the shell: {found:?}");
        kill_descendants(child_pid);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
