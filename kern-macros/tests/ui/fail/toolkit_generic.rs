use kern::prelude::*;

#[derive(Toolkit)]
struct Shell<T> {
    inner: T,
}

fn main() {}
