#!/usr/bin/env bash
# Compile-time cost of #[tool]: a crate with N `#[tool]` functions against one with N hand-written
# equivalents (a serde/schemars-derived args struct + a `kern::Tool` impl each). Both crates are
# generated in a temp dir with a path dependency on this workspace and a shared target dir (so
# the dependencies are built once, untimed); then each crate is timed for a clean `cargo build`
# and a clean `cargo check` of itself only.
#
#   scripts/compile-bench.sh [N]      (default N = 100)
set -euo pipefail

N="${1:-100}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export CARGO_TARGET_DIR="$TMP/target"

manifest() {
    cat <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
kern = { path = "$ROOT" }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
schemars = "1"
futures = "0.3"

[workspace]
TOML
}

# --- the #[tool] crate
mkdir -p "$TMP/with_macro/src"
manifest with_macro > "$TMP/with_macro/Cargo.toml"
{
    echo 'use kern::prelude::*;'
    for i in $(seq 1 "$N"); do
        cat <<RS

/// Tool number $i.
///
/// # Arguments
/// * \`name\` - A name
/// * \`count\` - How many
/// * \`verbose\` - Say more
#[tool]
pub fn tool_$i(name: String, count: u32, verbose: Option<bool>) -> Result<String, ToolError> {
    Ok(format!("{name} {count} {verbose:?} $i"))
}
RS
    done
} > "$TMP/with_macro/src/lib.rs"

# --- the hand-written crate
mkdir -p "$TMP/hand_written/src"
manifest hand_written > "$TMP/hand_written/Cargo.toml"
{
    cat <<'RS'
use std::sync::LazyLock;

use futures::future::BoxFuture;
use kern::{Tool, ToolContext, ToolDefinition, ToolError, ToolResult};
use serde_json::Value;
RS
    for i in $(seq 1 "$N"); do
        cat <<RS

/// Arguments of tool $i.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Tool${i}Args {
    /// A name
    pub name: String,
    /// How many
    pub count: u32,
    /// Say more
    pub verbose: Option<bool>,
}

/// Tool number $i.
pub struct Tool$i;

impl Tool$i {
    /// The body.
    pub fn call(name: String, count: u32, verbose: Option<bool>) -> Result<String, ToolError> {
        Ok(format!("{name} {count} {verbose:?} $i"))
    }
}

impl Tool for Tool$i {
    fn definition(&self) -> &ToolDefinition {
        static DEF: LazyLock<ToolDefinition> = LazyLock::new(|| {
            let mut schema = serde_json::to_value(schemars::schema_for!(Tool${i}Args)).unwrap();
            if let Some(o) = schema.as_object_mut() {
                o.remove("\$schema");
                o.remove("title");
            }
            ToolDefinition::new("tool_$i", "Tool number $i.", schema)
        });
        &DEF
    }

    fn invoke(&self, args: Value, _ctx: ToolContext) -> BoxFuture<'static, ToolResult> {
        let parsed = serde_json::from_value::<Tool${i}Args>(args).map_err(ToolError::invalid_arguments);
        Box::pin(async move {
            let a = parsed?;
            kern::__private::run_blocking(move || Tool$i::call(a.name, a.count, a.verbose)).await
        })
    }
}
RS
    done
} > "$TMP/hand_written/src/lib.rs"

# Warm the shared dependencies (not timed), for both profiles.
for krate in with_macro hand_written; do
    (cd "$TMP/$krate" && cargo build -q && cargo check -q)
done

now() { date +%s.%N; }
for cmd in build check; do
    for krate in with_macro hand_written; do
        (cd "$TMP/$krate" && cargo clean -q -p "$krate")
        start=$(now)
        (cd "$TMP/$krate" && cargo "$cmd" -q)
        end=$(now)
        printf '%-6s %-13s %3d tools: %6.2f s\n' "$cmd" "$krate" "$N" "$(echo "$end - $start" | bc)"
    done
done
