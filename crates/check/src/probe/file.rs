//! FILE_CHECK: the integer in a tracked file, read when the check runs (and at once when
//! inotify says the file changed).

use crate::failure::Failure;
use crate::spec::FileSpec;

use super::step::Step;

/// FILE_CHECK: read the file's integer now (a small regular file: no blocking I/O worth
/// the name). A missing or unreadable file counts as 0, as keepalived's track_file does.
pub fn file_check(f: &FileSpec) -> Step {
    let text = std::fs::read_to_string(&f.path).unwrap_or_default();
    let value: i64 = text
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    match file_verdict(value, f) {
        Ok(w) => Step::Pass(w),
        Err(e) => Step::Fail(e),
    }
}

/// The verdict for a tracked-file value: weight 0 means non-zero is a failure; otherwise
/// value × weight (negated by `reverse`) is the weight change, and below -253 a failure.
pub fn file_verdict(value: i64, f: &FileSpec) -> Result<Option<i64>, Failure> {
    if f.weight == 0 {
        return if value == 0 {
            Ok(None)
        } else {
            Err(Failure::File(format!("{} holds {value}", f.path.display())))
        };
    }
    let mut w = value.saturating_mul(f.weight);
    if f.reverse {
        w = w.saturating_neg();
    }
    if w < -253 {
        return Err(Failure::File(format!(
            "{} holds {value}: weight {w} below -253",
            f.path.display()
        )));
    }
    Ok(f.dynamic.then_some(w))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_values() {
        let mut f = FileSpec {
            path: "/nonexistent".into(),
            weight: 0,
            reverse: false,
            dynamic: false,
        };
        assert_eq!(file_verdict(0, &f), Ok(None));
        assert!(file_verdict(1, &f).is_err());
        f.weight = 10;
        f.dynamic = true;
        assert_eq!(file_verdict(3, &f), Ok(Some(30)));
        assert!(file_verdict(-30, &f).is_err());
        f.reverse = true;
        assert_eq!(file_verdict(3, &f), Ok(Some(-30)));
        assert!(matches!(file_check(&f), Step::Pass(Some(0))));
    }
}
