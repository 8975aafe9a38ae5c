use kern::prelude::*;

/// Context by value, `&str`, `&[T]` and `&mut`.
#[tool]
fn refs(ctx: ToolContext, text: &str, items: &[u8], path: &std::path::Path, acc: &mut Vec<u8>) -> usize {
    acc.extend_from_slice(items);
    ctx.run_id.len() + text.len() + path.as_os_str().len() + acc.len()
}

/// Context by reference, through its full path.
#[tool]
async fn full_path(id: String, ctx: &kern::ToolContext) -> String {
    format!("{id}{}", ctx.tool_call_id)
}

fn main() {
    let props = &refs.definition().parameters["properties"];
    assert!(props.get("ctx").is_none());
    assert_eq!(props["text"]["type"], "string");
    assert!(full_path.definition().parameters["properties"].get("ctx").is_none());
}
