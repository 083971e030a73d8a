//! `cargo xtask bench NAME`: keepalived 2.2.7 and keepalived-rs side by side in one run,
//! medians and the ratio. Each benchmark lives in its own module.

#[path = "bench_checkers.rs"]
mod bench_checkers;
#[path = "bench_failover.rs"]
mod bench_failover;
#[path = "bench_ipvs.rs"]
mod bench_ipvs;
#[path = "bench_parse.rs"]
mod bench_parse;
#[path = "bench_scale.rs"]
mod bench_scale;

pub const NAMES: &[&str] = &["checkers", "failover", "ipvs", "parse", "scale"];

pub fn run(args: &[String]) -> Result<(), String> {
    let Some(name) = args.first() else {
        return Err(format!("bench needs a name: {}", NAMES.join(", ")));
    };
    #[allow(clippy::match_single_binding)] // grows one arm per benchmark
    match name.as_str() {
        "checkers" => bench_checkers::run(&args[1..]),
        "failover" => bench_failover::run(&args[1..]),
        "ipvs" => bench_ipvs::run(&args[1..]),
        "parse" => bench_parse::run(&args[1..]),
        "scale" => bench_scale::run(&args[1..]),
        _ => Err(format!(
            "unknown bench {name:?}; known: {}",
            NAMES.join(", ")
        )),
    }
}
