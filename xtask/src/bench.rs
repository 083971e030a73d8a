//! `cargo xtask bench NAME`: keepalived 2.2.7 and keepalived-rs side by side in one run,
//! medians and the ratio. Each benchmark lives in its own module.

#[path = "bench_checkers.rs"]
mod bench_checkers;
#[path = "bench_failover.rs"]
mod bench_failover;
#[path = "bench_ipvs.rs"]
mod bench_ipvs;
#[path = "bench_metrics.rs"]
mod bench_metrics;
#[path = "bench_parse.rs"]
mod bench_parse;
#[path = "bench_scale.rs"]
mod bench_scale;

pub const NAMES: &[&str] = &["checkers", "failover", "ipvs", "metrics", "parse", "scale"];

pub fn run(args: &[String]) -> Result<(), String> {
    let Some(name) = args.first() else {
        return Err(format!("bench needs a name: {}", NAMES.join(", ")));
    };
    #[allow(clippy::match_single_binding)] // grows one arm per benchmark
    match name.as_str() {
        "checkers" => bench_checkers::run(&args[1..]),
        "failover" => bench_failover::run(&args[1..]),
        "ipvs" => bench_ipvs::run(&args[1..]),
        "metrics" => bench_metrics::run(&args[1..]),
        "parse" => bench_parse::run(&args[1..]),
        "scale" => bench_scale::run(&args[1..]),
        _ => Err(format!(
            "unknown bench {name:?}; known: {}",
            NAMES.join(", ")
        )),
    }
}

/// Replace the section under `heading` (a `## ` line, up to the next one) of
/// docs/benchmarks.md with `section`, or append it when the file has none.
pub fn write_section(heading: &str, section: &str) -> Result<(), String> {
    let path = crate::root().join("docs/benchmarks.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let mut out = String::new();
    let mut skipping = false;
    let mut replaced = false;
    for line in old.lines() {
        if line.starts_with("## ") {
            skipping = line.trim() == heading;
            if skipping {
                out.push_str(section);
                replaced = true;
                continue;
            }
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !replaced {
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(section);
    }
    std::fs::write(&path, out).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
