//! `keepalived-rs`: keepalived's command line in front of the parser and the daemon.
//!
//! * `-v` / `-h`: version / usage on stderr, exit 0 (as keepalived).
//! * `--signum=FUNC`: the signal number keepalived uses (exit 1 for an unknown name).
//! * `-T ARGS`, or called by a name ending in `genhash` (the package's
//!   `keepalived-rs-genhash` link): genhash (`ka_check::genhash`).
//! * `-t`: check the config; exit 0 when keepalived would accept it silently, 5 when it
//!   has errors or warnings (keepalived 2.2.7 exits 5 on any message it prints).
//! * `-d` (with `-t` or alone): print the parsed model as JSON on stdout.
//! * otherwise: run the daemon (`keepalived_rs::daemon::run`).

#![deny(unsafe_code)]

use keepalived_rs::cli::{self, Invocation, Options};
use keepalived_rs::conf::{self, Diagnostic, LoadOptions};
use std::io::Write;
use std::process::ExitCode;

/// keepalived's exit code for configuration errors (`KEEPALIVED_EXIT_CONFIG_TEST`).
const EXIT_CONFIG_TEST: u8 = ka_proto::exit::CONFIG_TEST as u8;
/// keepalived's exit code for a script security violation under `-t`.
const EXIT_SCRIPT_SECURITY: u8 = ka_proto::exit::SCRIPT_SECURITY as u8;

fn main() -> ExitCode {
    if called_as_genhash(std::env::args_os().next()) {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let rc = ka_check::genhash::main(&args);
        return ExitCode::from(u8::try_from(rc).unwrap_or(1));
    }
    let invocation = match cli::parse(std::env::args_os().skip(1)) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    match invocation {
        Invocation::Version => {
            eprint!("{}", version_text());
            ExitCode::SUCCESS
        }
        Invocation::Help => {
            eprint!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Invocation::Signum(name) => match cli::signum(&name) {
            Some(n) => {
                println!("{n}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("Unknown sigfunc {name}");
                ExitCode::from(1)
            }
        },
        Invocation::Genhash(args) => {
            // keepalived's -T: the HTTP digest tool (ka_check::genhash).
            let rc = ka_check::genhash::main(&args);
            ExitCode::from(u8::try_from(rc).unwrap_or(1))
        }
        Invocation::Ctl(args) => {
            ExitCode::from(u8::try_from(keepalived_rs::ctl::main(&args)).unwrap_or(1))
        }
        Invocation::ConfigTest(o) => ExitCode::from(config_test(&o)),
        Invocation::Run(o) => {
            // -d: the VRRP child logs the configuration's text dump at start, as
            // keepalived 2.4.3 does (`RunFlags::dump_conf`); nothing on stdout.
            for w in &o.warnings {
                eprintln!("{w}");
            }
            let rc = keepalived_rs::daemon::run(&o);
            ExitCode::from(u8::try_from(rc).unwrap_or(1))
        }
    }
}

/// The binary was started by a name ending in `genhash` (`keepalived-rs-genhash`).
fn called_as_genhash(argv0: Option<std::ffi::OsString>) -> bool {
    argv0.is_some_and(|a| {
        std::path::Path::new(&a)
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("genhash"))
    })
}

/// The features of this build, named as keepalived's `-v` names its "Config options"
/// where there is a counterpart.
const BUILD_OPTIONS: &str = "VRRP VRRP_AUTH VRRP_VMAC LVS IPVS_NETLINK REGEX JSON \
                             TLS=rustls/ring SYSTEMD_NOTIFY";

/// `-v`: version, git commit, compiler and target, running kernel, build options
/// (keepalived prints the same kinds of facts, to stderr).
fn version_text() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "Keepalived-rs v{} (git {}), compatible with keepalived 2.2.7\n\n\
         Built with {} for {}, {} profile\n\
         Running on Linux {} {}\n\n\
         Build options: {}{}\n",
        env!("CARGO_PKG_VERSION"),
        ka_proto::ipc::Build::current().commit,
        env!("KA_BUILD_RUSTC"),
        env!("KA_BUILD_TARGET"),
        env!("KA_BUILD_PROFILE"),
        read("/proc/sys/kernel/osrelease"),
        read("/proc/sys/kernel/version"),
        BUILD_OPTIONS,
        if cfg!(panic = "abort") {
            " PANIC=abort"
        } else {
            ""
        },
    )
}

fn load_options(o: &Options) -> LoadOptions {
    LoadOptions {
        config_id: o.effective_config_id(),
        instance: None,
    }
}

/// `-t`: print every diagnostic, exit 0 or 5 (2 when the reading stopped, 6 for script
/// security or a missing include).
fn config_test(o: &Options) -> u8 {
    let result = conf::load_with(&o.use_file, &load_options(o), o.all_config, true);
    let mut report = String::new();
    for w in &o.warnings {
        report.push_str(w);
        report.push('\n');
    }
    let (diags, config): (&[Diagnostic], _) = match &result {
        Ok(l) => (&l.diagnostics, Some(&l.config)),
        Err(f) => (&f.diagnostics, None),
    };
    for d in diags {
        report.push_str(&d.to_string());
        report.push('\n');
    }
    match &o.config_test_log {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &report) {
                eprintln!("cannot write {}: {e}", path.display());
            }
        }
        None => {
            let _ = std::io::stderr().write_all(report.as_bytes());
        }
    }
    if o.dump_conf {
        if let Some(c) = config {
            print_json(c);
        }
    }
    if config.is_some_and(conf::validate::script_security_violation) {
        let msg = conf::validate::SECURITY_VIOLATION;
        match &o.config_test_log {
            Some(path) => {
                let _ = std::fs::write(path, format!("{report}{msg}\n"));
            }
            None => eprintln!("{msg}"),
        }
        return EXIT_SCRIPT_SECURITY;
    }
    // A notice (a skipped non-regular or executable file) does not fail the test:
    // keepalived 2.2.7 exits 0 then.
    let clean = diags.iter().all(|d| d.severity == conf::Severity::Notice);
    // A failed include check (`includem`, `includew`, `includeb`, `includea`, `-e`) is
    // keepalived's "no config" exit, 6, not 5.
    let missing_include = diags.iter().any(|d| {
        d.is_error()
            && [
                "Config files missing",
                "Some config files missing",
                "No config files matched",
            ]
            .iter()
            .any(|m| d.message.starts_with(m))
    });
    let code = if clean && o.warnings.is_empty() {
        0
    } else if diags.iter().any(Diagnostic::is_fatal) {
        // keepalived stopped reading at a keyword without its value: its config exit.
        ka_proto::exit::CONFIG as u8
    } else if missing_include {
        ka_proto::exit::NO_CONFIG as u8
    } else {
        EXIT_CONFIG_TEST
    };
    // Nothing else runs after -t: exit without freeing the model piece by piece
    // (a measurable part of checking a 100,000-line config).
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(i32::from(code));
}

fn print_json(c: &ka_proto::config::Config) {
    let shown = serde_json::to_value(c).map(|mut v| {
        mask_secrets(&mut v);
        v
    });
    match shown.and_then(|v| serde_json::to_string_pretty(&v)) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("cannot serialise the config: {e}"),
    }
}

/// The text that stands for a secret in dumps (keepalived 2.4.0 masks passwords so).
const MASK: &str = "********";

/// Passwords never leave in a dump: every `auth_pass` (and HMAC key) becomes [`MASK`].
fn mask_secrets(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if matches!(k.as_str(), "auth_pass" | "key_material" | "keys") && !x.is_null() {
                    *x = serde_json::Value::String(MASK.into());
                } else {
                    mask_secrets(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_masked_in_the_dump() {
        let mut v = serde_json::json!({
            "vrrp_instances": [{"authentication": {"auth_type": "Pass", "auth_pass": "secret12"}}]
        });
        super::mask_secrets(&mut v);
        let text = v.to_string();
        assert!(!text.contains("secret12"), "{text}");
        assert!(text.contains("********"), "{text}");
    }
}
