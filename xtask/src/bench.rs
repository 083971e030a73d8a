//! `cargo xtask bench NAME`: keepalived 2.2.7 and keepalived-rs side by side in one run,
//! medians and the ratio. Each benchmark lives in its own module.

#[path = "bench_parse.rs"]
mod bench_parse;

#[path = "bench_ipvs.rs"]
mod bench_ipvs;

pub const NAMES: &[&str] = &["parse", "ipvs"];

pub fn run(args: &[String]) -> Result<(), String> {
    let Some(name) = args.first() else {
        return Err(format!("bench needs a name: {}", NAMES.join(", ")));
    };
    #[allow(clippy::match_single_binding)] // grows one arm per benchmark
    match name.as_str() {
        "ipvs" => bench_ipvs::run(&args[1..]),
        "parse" => bench_parse::run(&args[1..]),
        _ => Err(format!(
            "unknown bench {name:?}; known: {}",
            NAMES.join(", ")
        )),
    }
}
