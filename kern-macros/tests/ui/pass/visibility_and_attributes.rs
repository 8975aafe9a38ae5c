#![deny(missing_docs)]
//! A crate that denies missing docs still compiles with tools in it.

use kern::prelude::*;

mod inner {
    use kern::prelude::*;

    /// Public from a module.
    #[tool]
    pub fn visible(a: u8) -> u8 {
        a
    }

    /// Crate-visible.
    #[tool]
    pub(crate) fn crate_visible(a: u8) -> u8 {
        a
    }
}

/// Keeps other attributes on the function.
#[tool]
#[allow(unused_mut)]
#[inline]
pub fn attributed(mut a: u8) -> u8 {
    a
}

/// Through another crate path.
#[tool(crate = "kern_alias")]
pub fn aliased(a: u8) -> u8 {
    a
}

use kern as kern_alias;

fn main() {
    assert_eq!(inner::visible::call(1), 1);
    assert_eq!(inner::crate_visible.name(), "crate_visible");
    let _args = inner::VisibleArgs { a: 1 };
    assert_eq!(attributed::call(2), 2);
    assert_eq!(aliased.definition().name, "aliased");
}

/// Compiled out: none of its generated items exist.
#[cfg(any())]
#[tool]
pub fn compiled_out(a: NoSuchType) -> u8 {
    a
}

/// Compiled out with the attribute under the cfg.
#[tool]
#[cfg(any())]
pub fn also_compiled_out(a: NoSuchType) -> u8 {
    a
}
