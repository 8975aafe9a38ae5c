use kern::prelude::*;

/// Sync.
#[tool]
fn sync_tool(a: u32) -> u32 {
    a + 1
}

/// Async.
#[tool]
pub async fn async_tool(a: u32) -> String {
    a.to_string()
}

fn main() {
    assert_eq!(sync_tool::call(1), 2);
    assert_eq!(sync_tool.name(), "sync_tool");
    assert_eq!(async_tool::NAME, "async_tool");
    let _: &dyn Tool = &async_tool;
    let _fut = async_tool::call(1);
}
