//! kern: LLM agents whose tools stay under the host program's control.
//!
//! A plain Rust function becomes a tool with `#[tool]`; tools the host must handle (marked
//! `external_execution`, `requires_confirmation` or `requires_user_input`) pause the run and come
//! back to the host as requirements, and the host continues the run when it has resolved them.
//!
//! Start with [`prelude`].

pub use kern_core::*;
pub use kern_macros::tool;

/// What a kern program needs in scope.
pub mod prelude {
    #[cfg(feature = "sqlite")]
    pub use kern_core::SqliteStore;
    pub use kern_core::{
        Agent, ExecutionMode, FunctionModel, IntoTools, Message, Model, Requirement, RunEvent,
        RunInput, RunOutput, RunStatus, RunStore, TestModel, Tool, ToolContext, ToolDefinition,
        ToolError, ToolExecution, ToolExecutor, ToolResult,
    };
    pub use kern_macros::tool;
}
