//! What a worker of a fleet does between claiming a run ([`RunStore::claim`]) and continuing
//! it: storing its progress and keeping its lease.
//!
//! [`RunStore::claim`]: crate::RunStore::claim

use std::time::{Duration, SystemTime};

use super::Agent;
use super::validate::validate_progress;
use crate::error::{Error, Result};
use crate::requirement::Requirement;
use crate::run::{RunOutput, RunStatus};
use crate::store::{Lease, StoredRun, fleet};

impl Agent {
    /// Stores a worker's progress on a paused run without continuing it: which requirements it
    /// has [started](Requirement::mark_started) and the resolutions it has so far. The run
    /// stays paused at the same pause, so the same requirements continue it later.
    ///
    /// Mark a requirement started and save that *before* executing its call: if the worker
    /// dies, the next claim ([`RunStore::claim`](crate::RunStore::claim)) gives it back
    /// [`interrupted`](Requirement::interrupted) for a decision, and the call is not executed
    /// twice unknowingly. Resolutions saved here are kept by the next claimer, which need not
    /// redo them. A resolution already stored is never undone by an unresolved requirement
    /// passed here.
    ///
    /// Any subset of the pause's requirements may be passed. The checks are a continue's
    /// ([`continue_run`](Self::continue_run)), where they apply to a partial answer: the run is
    /// paused ([`Error::RunNotPaused`]), each requirement is of this run and pause
    /// ([`Error::StaleRequirement`]: after another worker claimed the run, this one's are), names
    /// one of its calls once, with its arguments unchanged, and a resolved one is resolved as its
    /// kind allows. The write is a compare-and-set: [`Error::Conflict`] when the run changed
    /// since it was loaded here. Returns the run as stored.
    ///
    /// ```
    /// # use kern_core::{Agent, RunStatus, TestModel, ExecutionMode, Tool, ToolContext, ToolDefinition, ToolResult};
    /// # struct Shell(ToolDefinition);
    /// # impl Tool for Shell {
    /// #     fn definition(&self) -> &ToolDefinition { &self.0 }
    /// #     fn invoke(&self, _: serde_json::Value, _: ToolContext)
    /// #         -> futures::future::BoxFuture<'static, ToolResult> { Box::pin(async { unreachable!() }) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> kern_core::Result<()> {
    /// # let shell = Shell(ToolDefinition::new("shell", "Runs a command", serde_json::json!({"type": "object"}))
    /// #     .with_mode(ExecutionMode::External));
    /// let agent = Agent::builder().model(TestModel::new()).tool(shell).build()?;
    /// let mut run = agent.run("List the files").await?;
    /// run.requirements[0].mark_started();
    /// let saved = agent.save_progress(&run.run_id, &run.requirements).await?;
    /// assert_eq!(saved.status, RunStatus::Paused);
    /// assert!(saved.requirements[0].started);
    /// # Ok(()) }
    /// ```
    pub async fn save_progress(
        &self,
        run_id: &str,
        requirements: impl AsRef<[Requirement]>,
    ) -> Result<RunOutput> {
        let store = &self.inner.store;
        let StoredRun {
            mut run, version, ..
        } = store.load(run_id).await?;
        let updates: Vec<(usize, Requirement)> =
            validate_progress(&self.inner, &run, requirements.as_ref())?
                .into_iter()
                .map(|(index, passed)| (index, passed.clone()))
                .collect();
        for (index, passed) in updates {
            let stored = &mut run.requirements[index];
            let started = stored.started || passed.started;
            if !stored.is_resolved() && passed.is_resolved() {
                stored.tool_execution = passed.tool_execution;
                stored.confirmation = passed.confirmation;
                stored.kind = passed.kind;
            }
            stored.started = started;
        }
        store.update(&run, version).await?;
        Ok(run)
    }

    /// Extends the lease `worker` holds on a paused run it claimed to `lease` from now (by this
    /// machine's clock), so a long execution of its calls does not let another worker take the
    /// run over. Returns the new lease.
    ///
    /// Renew between the claim and the continue: a continue in progress owns the run (its
    /// writes are compare-and-sets that a renewal would make fail), so the lease taken at the
    /// claim should cover the continue too.
    ///
    /// [`Error::LeaseLost`] when `worker` does not hold the run's lease: another worker claimed
    /// it after the lease expired (this worker's requirements are stale now and it should stop),
    /// or the run was continued (it is running, at a new pause or at its end). [`Error::Conflict`] when the run
    /// changed while the lease was being renewed (load again and retry).
    pub async fn renew_lease(&self, run_id: &str, worker: &str, lease: Duration) -> Result<Lease> {
        let store = &self.inner.store;
        let StoredRun {
            mut run, version, ..
        } = store.load(run_id).await?;
        let held = run.status == RunStatus::Paused
            && run.lease.as_ref().is_some_and(|l| l.worker == worker);
        if !held {
            return Err(Error::LeaseLost {
                run_id: run_id.to_owned(),
                worker: worker.to_owned(),
            });
        }
        let now = SystemTime::now();
        let renewed = Lease {
            worker: worker.to_owned(),
            expires_at_ms: fleet::millis(now.checked_add(lease).unwrap_or(now)),
        };
        run.lease = Some(renewed.clone());
        store.update(&run, version).await?;
        Ok(renewed)
    }
}
