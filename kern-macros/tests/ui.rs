//! trybuild UI tests: every working form compiles (`ui/pass`), every mistake gives the checked-in
//! error (`ui/fail/*.stderr`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
