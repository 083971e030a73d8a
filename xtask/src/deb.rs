//! `cargo xtask deb`: the Debian package, built with Debian's own `dpkg-deb`.
//!
//! ```text
//! cargo xtask deb [--no-build]
//! ```
//!
//! Builds `cargo build --release -p keepalived-rs` (unless `--no-build`), splits the debug
//! information off the binary (`objcopy --only-keep-debug`, then a stripped copy with a
//! `.gnu_debuglink`), and writes two packages to `target/debian/`:
//!
//! * `keepalived-rs_<version>_<arch>.deb`: `/usr/sbin/keepalived-rs`, the genhash mode as
//!   `/usr/bin/keepalived-rs-genhash` (a link to the daemon, which looks at its name), the
//!   systemd unit, the SysV init script, `/etc/default/keepalived-rs`, the man pages and a
//!   sample configuration (copied to `/etc/keepalived/keepalived.conf` by the postinst only
//!   where none exists). Every path differs from Debian's `keepalived` package, so both
//!   install side by side.
//! * `keepalived-rs-dbgsym_<version>_<arch>.deb`: the debug information, where gdb looks
//!   for it (`/usr/lib/debug/.build-id/xx/yyyy.debug`).
//!
//! The files the package installs are kept in `pkg/` (unit, init script, defaults, sample,
//! maintainer scripts, copyright) and `pkg/man/`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The stripped daemon may not be larger than this (issue 14).
pub const MAX_BINARY: u64 = 8 << 20;

/// What `build` made.
#[derive(Debug, Clone)]
pub struct Built {
    pub deb: PathBuf,
    pub dbgsym: PathBuf,
    /// Size of the stripped `/usr/sbin/keepalived-rs`.
    pub binary_size: u64,
    pub version: String,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut no_build = false;
    for a in args {
        match a.as_str() {
            "--no-build" => no_build = true,
            _ => {
                return Err(format!(
                    "deb: unknown argument {a:?} (usage: deb [--no-build])"
                ))
            }
        }
    }
    let built = build(!no_build)?;
    eprintln!(
        "deb: {} ({} bytes; daemon {} bytes stripped)\ndeb: {}",
        built.deb.display(),
        size(&built.deb),
        built.binary_size,
        built.dbgsym.display()
    );
    Ok(())
}

/// The Debian packages the build needs.
pub const TOOLS: &[(&str, &str)] = &[
    ("/usr/bin/dpkg-deb", "dpkg"),
    ("/usr/bin/objcopy", "binutils"),
    ("/usr/bin/gzip", "gzip"),
];

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The workspace version (`[workspace.package] version`).
pub fn version() -> Result<String, String> {
    let toml = std::fs::read_to_string(crate::root().join("Cargo.toml"))
        .map_err(|e| format!("Cargo.toml: {e}"))?;
    let mut in_package = false;
    for line in toml.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_package = l == "[workspace.package]";
            continue;
        }
        if in_package {
            if let Some(v) = l.strip_prefix("version") {
                let v = v
                    .trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"');
                if !v.is_empty() {
                    return Ok(v.to_string());
                }
            }
        }
    }
    Err("Cargo.toml: no version in [workspace.package]".into())
}

/// The GNU build id of an ELF file, from `readelf -n`.
fn build_id(bin: &Path) -> Result<Option<String>, String> {
    let text = output(Command::new("readelf").arg("-n").arg(bin))?;
    Ok(text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID:"))
        .map(|s| s.trim().to_string())
        .filter(|s| s.len() > 2 && s.bytes().all(|b| b.is_ascii_hexdigit())))
}

/// The highest `GLIBC_x.y` symbol version the binary needs: the libc6 it depends on.
fn glibc_needed(bin: &Path) -> Result<String, String> {
    let text = output(Command::new("objdump").arg("-T").arg(bin))?;
    let mut best: Option<(u32, u32)> = None;
    for word in text.split_whitespace() {
        let Some(v) = word
            .trim_matches(|c| c == '(' || c == ')')
            .strip_prefix("GLIBC_")
        else {
            continue;
        };
        let mut parts = v.split('.');
        let (Some(Ok(a)), Some(Ok(b))) = (
            parts.next().map(str::parse::<u32>),
            parts.next().map(str::parse::<u32>),
        ) else {
            continue;
        };
        if best.is_none_or(|x| (a, b) > x) {
            best = Some((a, b));
        }
    }
    let (a, b) = best.ok_or("no GLIBC symbol versions in the binary")?;
    Ok(format!("{a}.{b}"))
}

fn write(path: &Path, text: &str, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn copy(from: &Path, to: &Path, mode: u32) -> Result<(), String> {
    let text = std::fs::read_to_string(from).map_err(|e| format!("{}: {e}", from.display()))?;
    write(to, &text, mode)
}

/// `gzip -9n` of `from` into `to` (Debian compresses man pages and changelogs).
fn gzip(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let out = Command::new("gzip")
        .args(["-9n", "-c"])
        .arg(from)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip {}: {}", from.display(), out.status));
    }
    std::fs::write(to, out.stdout).map_err(|e| format!("{}: {e}", to.display()))
}

/// Every regular file below `root` except `DEBIAN/`, relative, sorted.
fn files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if p != root.join("DEBIAN") {
                    walk(root, &p, out);
                }
            } else if ft.is_file() {
                if let Ok(rel) = p.strip_prefix(root) {
                    out.push(rel.to_path_buf());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// `DEBIAN/md5sums` and the installed size in KiB.
fn md5sums(root: &Path) -> Result<u64, String> {
    let list = files(root);
    let mut text = String::new();
    let mut bytes = 0;
    for rel in &list {
        let sum = output(Command::new("md5sum").arg(root.join(rel)))?;
        let hex = sum.split_whitespace().next().unwrap_or_default();
        text.push_str(&format!("{hex}  {}\n", rel.display()));
        bytes += size(&root.join(rel));
    }
    write(&root.join("DEBIAN/md5sums"), &text, 0o644)?;
    Ok(bytes.div_ceil(1024))
}

fn dpkg_deb(stage: &Path, out: &Path) -> Result<(), String> {
    crate::run(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(stage)
            .arg(out),
    )
}

/// Build both packages.
pub fn build(cargo_build: bool) -> Result<Built, String> {
    crate::setup::ensure_packages(TOOLS)?;
    let root = crate::root();
    if cargo_build {
        crate::run(crate::cargo().args(["build", "--release", "-p", "keepalived-rs"]))?;
    }
    let bin = root.join("target/release/keepalived-rs");
    if !bin.exists() {
        return Err(format!("{} is not built", bin.display()));
    }
    let version = version()?;
    let arch = output(Command::new("dpkg").arg("--print-architecture"))?
        .trim()
        .to_string();
    let out_dir = root.join("target/debian");
    let stage = out_dir.join("stage/keepalived-rs");
    let dbg_stage = out_dir.join("stage/keepalived-rs-dbgsym");
    for d in [&stage, &dbg_stage] {
        let _ = std::fs::remove_dir_all(d);
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let pkg = root.join("pkg");

    // The binary: debug information split off, the rest stripped, linked by build id.
    let id = build_id(&bin)?;
    let dbg_rel = match &id {
        Some(id) => PathBuf::from(format!(
            "usr/lib/debug/.build-id/{}/{}.debug",
            &id[..2],
            &id[2..]
        )),
        None => PathBuf::from("usr/lib/debug/usr/sbin/keepalived-rs.debug"),
    };
    let dbg_file = dbg_stage.join(&dbg_rel);
    if let Some(dir) = dbg_file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    crate::run(
        Command::new("objcopy")
            .arg("--only-keep-debug")
            .arg("--compress-debug-sections")
            .arg(&bin)
            .arg(&dbg_file),
    )?;
    let sbin = stage.join("usr/sbin/keepalived-rs");
    std::fs::create_dir_all(stage.join("usr/sbin")).map_err(|e| format!("usr/sbin: {e}"))?;
    crate::run(
        Command::new("objcopy")
            .arg("--strip-all")
            .arg(format!("--add-gnu-debuglink={}", dbg_file.display()))
            .arg(&bin)
            .arg(&sbin),
    )?;
    let binary_size = size(&sbin);
    if binary_size > MAX_BINARY {
        return Err(format!(
            "the stripped daemon is {binary_size} bytes, over the {MAX_BINARY}-byte limit"
        ));
    }
    std::os::unix::fs::symlink("../sbin/keepalived-rs", {
        let p = stage.join("usr/bin/keepalived-rs-genhash");
        std::fs::create_dir_all(stage.join("usr/bin")).map_err(|e| format!("usr/bin: {e}"))?;
        p
    })
    .map_err(|e| format!("genhash link: {e}"))?;

    // Service files, configuration, documentation.
    copy(
        &pkg.join("keepalived-rs.service"),
        &stage.join("lib/systemd/system/keepalived-rs.service"),
        0o644,
    )?;
    copy(
        &pkg.join("keepalived-rs.init"),
        &stage.join("etc/init.d/keepalived-rs"),
        0o755,
    )?;
    copy(
        &pkg.join("keepalived-rs.default"),
        &stage.join("etc/default/keepalived-rs"),
        0o644,
    )?;
    let doc = stage.join("usr/share/doc/keepalived-rs");
    copy(&pkg.join("debian/copyright"), &doc.join("copyright"), 0o644)?;
    copy(
        &pkg.join("keepalived.conf.sample"),
        &doc.join("examples/keepalived.conf"),
        0o644,
    )?;
    gzip(&root.join("README.md"), &doc.join("README.md.gz"))?;
    for page in man_pages()? {
        let name = page
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("man page name")?
            .to_string();
        let section = name.rsplit('.').next().unwrap_or("8");
        gzip(
            &page,
            &stage.join(format!("usr/share/man/man{section}/{name}.gz")),
        )?;
    }

    // Control files.
    let installed = md5sums(&stage)?;
    let glibc = glibc_needed(&sbin)?;
    write(
        &stage.join("DEBIAN/control"),
        &format!(
            "Package: keepalived-rs\n\
             Version: {version}\n\
             Architecture: {arch}\n\
             Maintainer: The keepalived-rs developers <keepalived-rs@lists.invalid>\n\
             Installed-Size: {installed}\n\
             Depends: libc6 (>= {glibc})\n\
             Recommends: iproute2, nftables\n\
             Suggests: ipvsadm\n\
             Section: admin\n\
             Priority: optional\n\
             Description: keepalived-compatible VRRP and LVS health-check daemon\n \
             keepalived-rs keeps service addresses (VIPs) on one healthy host with VRRP\n \
             (RFC 3768, RFC 5798) and drives the kernel's IPVS load balancer with health\n \
             checks. It reads keepalived's configuration file and command line, speaks\n \
             VRRP with keepalived on the wire, and is written in Rust.\n \
             .\n \
             It installs beside Debian's keepalived package; the two services conflict,\n \
             so one runs at a time. See keepalived-rs(8) for switching.\n"
        ),
        0o644,
    )?;
    write(
        &stage.join("DEBIAN/conffiles"),
        "/etc/default/keepalived-rs\n/etc/init.d/keepalived-rs\n",
        0o644,
    )?;
    for script in ["postinst", "prerm", "postrm"] {
        copy(
            &pkg.join("debian").join(script),
            &stage.join("DEBIAN").join(script),
            0o755,
        )?;
    }
    let deb = out_dir.join(format!("keepalived-rs_{version}_{arch}.deb"));
    dpkg_deb(&stage, &deb)?;

    // The debug symbols.
    let dbg_installed = md5sums(&dbg_stage)?;
    let build_ids = id
        .as_deref()
        .map(|i| format!("Build-Ids: {i}\n"))
        .unwrap_or_default();
    write(
        &dbg_stage.join("DEBIAN/control"),
        &format!(
            "Package: keepalived-rs-dbgsym\n\
             Version: {version}\n\
             Architecture: {arch}\n\
             Maintainer: The keepalived-rs developers <keepalived-rs@lists.invalid>\n\
             Installed-Size: {dbg_installed}\n\
             Depends: keepalived-rs (= {version})\n\
             Section: debug\n\
             Priority: optional\n\
             Auto-Built-Package: debug-symbols\n\
             {build_ids}\
             Description: debug symbols for keepalived-rs\n"
        ),
        0o644,
    )?;
    let dbgsym = out_dir.join(format!("keepalived-rs-dbgsym_{version}_{arch}.deb"));
    dpkg_deb(&dbg_stage, &dbgsym)?;
    Ok(Built {
        deb,
        dbgsym,
        binary_size,
        version,
    })
}

/// The man pages in `pkg/man/` (`NAME.SECTION`).
pub fn man_pages() -> Result<Vec<PathBuf>, String> {
    let dir = crate::root().join("pkg/man");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "1" | "5" | "8"))
        })
        .collect();
    pages.sort();
    if pages.is_empty() {
        return Err(format!("no man pages in {}", dir.display()));
    }
    Ok(pages)
}
