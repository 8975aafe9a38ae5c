//! A blocking facade over [`crate::Agent`], for programs without an async runtime (in the style
//! of `reqwest::blocking`).
//!
//! ```
//! use kern_core::{Agent, TestModel};
//!
//! # fn main() -> kern_core::Result<()> {
//! let agent = Agent::builder().model(TestModel::new()).build_blocking()?;
//! let run = agent.run("Hello")?;
//! assert!(run.is_finished());
//! # Ok(()) }
//! ```
//!
//! The facade owns a current-thread tokio runtime, with I/O and timers enabled (the HTTP
//! providers need both), and blocks on it. It must not be called from
//! inside an async runtime (that would block the runtime's thread): there, its methods return
//! [`Error::Config`] saying so — use the async [`crate::Agent`] instead.

use std::future::Future;
use std::sync::Arc;

use crate::agent::{RunInput, ToolExecutor};
use crate::error::{Error, Result};
use crate::requirement::Requirement;
use crate::run::RunOutput;

/// An [`crate::Agent`] whose methods block. Cheap to clone; clones share the runtime.
#[derive(Debug, Clone)]
pub struct Agent {
    agent: crate::Agent,
    runtime: Arc<Runtime>,
}

/// Owns the runtime; shuts it down without blocking, so dropping the facade anywhere (even
/// inside another runtime) is safe.
#[derive(Debug)]
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Agent {
    /// Wraps an agent. [`Error::Config`] if the runtime cannot be started.
    pub fn new(agent: crate::Agent) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("could not start the blocking runtime: {e}")))?;
        Ok(Agent {
            agent,
            runtime: Arc::new(Runtime(Some(runtime))),
        })
    }

    /// The async agent inside.
    pub fn async_agent(&self) -> &crate::Agent {
        &self.agent
    }

    fn block_on<F: Future<Output = Result<RunOutput>>>(&self, future: F) -> Result<RunOutput> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::Config(
                "kern's blocking Agent was called inside an async runtime, where blocking would \
                 stall it; use the async kern::Agent there"
                    .to_owned(),
            ));
        }
        match &self.runtime.0 {
            Some(runtime) => runtime.block_on(future),
            None => Err(Error::Config(
                "the blocking runtime is shut down".to_owned(),
            )),
        }
    }

    /// [`crate::Agent::run`], blocking.
    pub fn run(&self, input: impl Into<RunInput>) -> Result<RunOutput> {
        self.block_on(self.agent.run(input))
    }

    /// [`crate::Agent::continue_run`], blocking. The requirements are taken by reference: a
    /// refused continue leaves them with the caller.
    pub fn continue_run(
        &self,
        run_id: &str,
        requirements: impl AsRef<[Requirement]>,
    ) -> Result<RunOutput> {
        self.block_on(self.agent.continue_run(run_id, requirements))
    }

    /// [`crate::Agent::retry_run`], blocking.
    pub fn retry_run(&self, run_id: &str) -> Result<RunOutput> {
        self.block_on(self.agent.retry_run(run_id))
    }

    /// [`crate::Agent::reopen_run`], blocking.
    pub fn reopen_run(&self, run_id: &str) -> Result<RunOutput> {
        self.block_on(self.agent.reopen_run(run_id))
    }

    /// [`crate::Agent::continue_run_with`], blocking.
    pub fn continue_run_with(
        &self,
        run_id: &str,
        requirements: impl AsRef<[Requirement]>,
        executor: impl ToolExecutor,
    ) -> Result<RunOutput> {
        self.block_on(self.agent.continue_run_with(run_id, requirements, executor))
    }
}
