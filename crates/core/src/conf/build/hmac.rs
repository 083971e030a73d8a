//! `auth_hmac { }` in a `vrrp_instance` (keepalived 2.4.x): keys, active key, anti-replay,
//! window and mode, with the warnings keepalived 2.4.3 gives for them.

use super::values::Ctx;
use crate::conf::tree::{Loc, Node};
use ka_proto::config::vrrp::{AuthHmac, HmacAntiReplay, HmacKey, HmacMode};
use ka_proto::config::VrrpInstance;

/// Key length bounds (bytes).
const KEY_MIN: usize = 32;
const KEY_MAX: usize = 64;
/// A key file larger than this is refused (a key line is at most `hex:` + 128 digits).
const KEY_FILE_MAX: u64 = 4096;

/// Parse the `auth_hmac` block `k` of instance `inst`.
pub fn block(ctx: &mut Ctx, k: &Node, inst: &str) -> Option<AuthHmac> {
    if !ctx.need_block(k) {
        return None;
    }
    let mut h = AuthHmac::default();
    for a in k.block() {
        match a.keyword() {
            "key" => key(ctx, a, inst, &mut h),
            "active_key" => {
                if let Some(s) = ctx.need(a, 0) {
                    match s.parse::<u8>() {
                        Ok(id) if id > 0 => h.active_key = id,
                        _ => ctx.warn(
                            a.loc,
                            format!(
                                "({inst}) auth_hmac active_key '{s}' must be between 1 and 255"
                            ),
                        ),
                    }
                }
            }
            "anti_replay" => match ctx.need(a, 0) {
                Some("time") => h.anti_replay = HmacAntiReplay::Time,
                Some("monotonic") => h.anti_replay = HmacAntiReplay::Monotonic,
                Some(o) => ctx.warn(
                    a.loc,
                    format!("({inst}) auth_hmac anti_replay '{o}' must be time or monotonic"),
                ),
                None => {}
            },
            "time_window" => {
                if let Some(s) = ctx.need(a, 0) {
                    match s.parse::<u32>() {
                        Ok(w) if (1..=300).contains(&w) => h.time_window = Some(w),
                        _ => ctx.warn(
                            a.loc,
                            format!(
                                "({inst}) auth_hmac time_window '{s}' must be between 1 and 300 seconds"
                            ),
                        ),
                    }
                }
            }
            "mode" => match ctx.need(a, 0) {
                Some("enforce") => h.mode = HmacMode::Enforce,
                Some("permissive") => h.mode = HmacMode::Permissive,
                Some("receive-only") => h.mode = HmacMode::ReceiveOnly,
                Some(o) => ctx.warn(
                    a.loc,
                    format!(
                        "({inst}) auth_hmac mode '{o}' must be enforce, permissive or receive-only"
                    ),
                ),
                None => {}
            },
            _ => ctx.unknown(a),
        }
    }
    Some(h)
}

/// `key ID VALUE`: a valid key is added, anything else warned about and skipped.
fn key(ctx: &mut Ctx, a: &Node, inst: &str, h: &mut AuthHmac) {
    let (Some(id), Some(value)) = (a.arg(0), a.arg(1)) else {
        ctx.warn(
            a.loc,
            format!("({inst}) auth_hmac key needs an id and a value"),
        );
        return;
    };
    let id = match id.text.parse::<u8>() {
        Ok(n) if n > 0 => n,
        _ => {
            ctx.warn(
                a.loc,
                format!(
                    "({inst}) auth_hmac key id '{}' must be between 1 and 255",
                    id.text
                ),
            );
            return;
        }
    };
    if h.keys.iter().any(|k| k.id == id) {
        ctx.warn(a.loc, format!("({inst}) duplicate auth_hmac key id {id}"));
        return;
    }
    let bytes = if let Some(path) = value.text.strip_prefix("file:") {
        key_file(ctx, a.loc, inst, path)
    } else {
        decode(value.text)
    };
    if !(KEY_MIN..=KEY_MAX).contains(&bytes.len()) {
        ctx.warn(
            a.loc,
            format!(
                "({inst}) auth_hmac key {id} length {} not in range [{KEY_MIN}, {KEY_MAX}]",
                bytes.len()
            ),
        );
        return;
    }
    h.keys.push(HmacKey { id, key: bytes });
}

/// `hex:DIGITS` (an invalid one is empty) or the text itself.
fn decode(text: &str) -> Vec<u8> {
    let Some(hex) = text.strip_prefix("hex:") else {
        return text.as_bytes().to_vec();
    };
    if hex.len() % 2 != 0 {
        return Vec::new();
    }
    let digits: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
        })
        .collect();
    digits.unwrap_or_default()
}

/// A key file: a `hex:` line or a raw ASCII key (trailing line end removed). Warns when it
/// is readable by group or others; empty when it cannot be read.
fn key_file(ctx: &mut Ctx, loc: Loc, inst: &str, path: &str) -> Vec<u8> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m,
        _ => {
            ctx.warn(
                loc,
                format!("({inst}) auth_hmac key file '{path}' cannot be opened"),
            );
            return Vec::new();
        }
    };
    if meta.permissions().mode() & 0o044 != 0 {
        ctx.warn(
            loc,
            format!("({inst}) auth_hmac key file '{path}' is readable by group or others"),
        );
    }
    if meta.len() > KEY_FILE_MAX {
        ctx.warn(
            loc,
            format!("({inst}) auth_hmac key file '{path}' is too large"),
        );
        return Vec::new();
    }
    match std::fs::read(path) {
        Ok(mut b) => {
            while b.last().is_some_and(|c| matches!(c, b'\n' | b'\r')) {
                b.pop();
            }
            match std::str::from_utf8(&b) {
                Ok(s) if s.starts_with("hex:") => decode(s),
                _ => b,
            }
        }
        Err(_) => {
            ctx.warn(
                loc,
                format!("({inst}) auth_hmac key file '{path}' cannot be opened"),
            );
            Vec::new()
        }
    }
}

/// End-of-instance checks (keepalived 2.4.3's, same words): `auth_hmac` replaces a legacy
/// `authentication` block; an `active_key` naming no valid key disables the extension;
/// strict mode (`vrrp_strict` / `strict_mode`) turns any other mode into `enforce`.
pub fn finish(ctx: &mut Ctx, loc: Loc, v: &mut VrrpInstance) {
    let Some(h) = &mut v.auth_hmac else { return };
    if v.strict_mode && h.mode != HmacMode::Enforce {
        ctx.warn(
            loc,
            format!("({}) strict mode requires auth_hmac mode enforce", v.name),
        );
        h.mode = HmacMode::Enforce;
    }
    let Some(h) = &v.auth_hmac else { return };
    if v.authentication.is_some() {
        ctx.warn(
            loc,
            format!(
                "({}) auth_hmac cannot be combined with authentication, dropping legacy auth",
                v.name
            ),
        );
        v.authentication = None;
    }
    if !h.keys.iter().any(|k| k.id == h.active_key) {
        ctx.warn(
            loc,
            format!(
                "({}) auth_hmac active_key {} is not defined, disabling extension",
                v.name, h.active_key
            ),
        );
        v.auth_hmac = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_decode() {
        assert_eq!(decode("hex:00ff10").as_slice(), &[0, 0xff, 0x10]);
        assert!(decode("hex:0").is_empty());
        assert!(decode("hex:zz").is_empty());
        assert!(decode("hex:é1").is_empty());
        assert_eq!(decode("abc").as_slice(), b"abc");
    }
}
