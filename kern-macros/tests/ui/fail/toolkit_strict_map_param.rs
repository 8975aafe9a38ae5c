use std::collections::BTreeMap;

use kern::prelude::*;

#[derive(Toolkit)]
struct Env;

#[toolkit_methods]
impl Env {
    /// Sets variables.
    #[toolkit(strict)]
    fn set(&self, vars: BTreeMap<String, String>) -> usize {
        vars.len()
    }
}

fn main() {
    let _ = Agent::builder().tool(Env);
}
