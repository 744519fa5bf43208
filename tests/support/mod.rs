//! What a test does when an input from outside the crate is missing (an npm
//! tool, sample files that are not shipped): skip with a notice on a
//! developer's machine, fail under CI, where a skip would hide that the check
//! never ran.

/// True when the `CI` environment variable is set to anything but `false`
/// or `0` (GitHub Actions and this project's `.ci/run` set `CI=true`).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Call when `what` is absent: panics under CI, otherwise prints that the
/// test is skipped and returns, so the caller returns too. `fix` says how to
/// provide it.
pub fn missing(what: &str, fix: &str) {
    assert!(
        !under_ci(),
        "{what} is missing, and CI=true turns this skip into a failure: {fix}"
    );
    eprintln!("skipping: {what} is missing ({fix})");
}
