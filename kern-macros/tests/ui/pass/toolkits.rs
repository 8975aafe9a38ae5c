use std::sync::Arc;

use kern::prelude::*;

#[derive(serde::Deserialize, schemars::JsonSchema)]
enum Kind {
    File,
    Dir,
}

/// A toolkit with every form of method.
#[derive(Toolkit, Clone)]
#[toolkit(external = [list_dir], requires_confirmation = ["delete"], requires_user_input = [ask], strict = false)]
pub struct Files {
    root: String,
}

#[toolkit_methods]
impl Files {
    /// A constructor: not a tool.
    pub fn new(root: &str) -> Self {
        Files { root: root.into() }
    }

    /// Async, with a context.
    pub async fn list_dir(&self, directory: String, ctx: ToolContext) -> Result<Vec<String>, ToolError> {
        Ok(vec![self.root.clone(), directory, ctx.run_id])
    }

    /// Sync, borrowed parameters and an enum.
    fn delete(&self, path: &str, kind: Option<Kind>) -> std::io::Result<()> {
        let _ = (path, kind);
        Ok(())
    }

    /// User input.
    fn ask(&self, question: String) -> String {
        question
    }

    /// Renamed, strict, shown.
    #[toolkit(name = "stat-file", description = "Stat a file.", strict, show_result)]
    fn stat(&self, path: String) {
        let _ = path;
    }

    /// Skipped.
    #[toolkit(skip)]
    pub fn reset(&mut self) {
        self.root.clear();
    }
}

#[derive(Toolkit)]
#[toolkit(crate = "kern_alias")]
struct Aliased;

#[toolkit_methods(crate = "kern_alias")]
impl Aliased {
    /// One.
    fn one(&self) -> u8 {
        1
    }
}

use kern as kern_alias;

fn main() {
    let mut tools: Vec<Arc<dyn Tool>> = Vec::new();
    Files::new("/").into_tools(&mut tools).unwrap();
    let modes: Vec<_> = tools.iter().map(|t| t.definition().mode.clone()).collect();
    assert_eq!(
        modes,
        [
            ExecutionMode::External,
            ExecutionMode::RequiresConfirmation,
            ExecutionMode::RequiresUserInput { fields: vec!["question".into()] },
            ExecutionMode::Internal,
        ]
    );
    assert_eq!(tools[3].definition().name, "stat-file");
    assert!(tools[3].definition().strict && tools[3].definition().show_result);
    let mut f = Files::new("/x");
    f.reset();
    f.clone().into_toolkit().exclude(["stat"]).into_tools(&mut tools).unwrap();
    assert_eq!(tools.len(), 7);
    let _args = FilesListDirArgs { directory: "d".into() };
    Aliased.into_tools(&mut tools).unwrap();
}
