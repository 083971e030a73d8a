//! Routing table names and the numbers of `virtual_rules` / `virtual_routes`, read as
//! keepalived 2.2.7 reads them (observed with `keepalived -t`):
//!
//! * a table is a number in C's `strtoul` base-0 form (`100`, `0x64`, `0144`; a sign or
//!   an overflow wraps, and the result is cut to 32 bits) or a name from
//!   `/etc/iproute2/rt_tables` (`main`, `local`, `default` and `unspec` are always
//!   known; `rt_tables.d` is not read, names are case-sensitive);
//! * a fwmark or its mask is a 32-bit number in the same base-0 form, with no sign
//!   and no overflow.

use std::collections::HashMap;

/// Where keepalived (and iproute2) find the table names.
pub const RT_TABLES: &str = "/etc/iproute2/rt_tables";

/// The digits of `s` in base 0 (`0x` hex, leading `0` octal, else decimal), all of `s`
/// used. Overflow saturates at `u64::MAX`, like `strtoul`.
fn base0(s: &str) -> Option<u64> {
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None if s.len() > 1 && s.starts_with('0') => (&s[1..], 8),
        None => (s, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(u64::from_str_radix(digits, radix).unwrap_or(u64::MAX))
}

/// `strtoul(s, &end, 0)` with `*end == '\0'` required, as a 32-bit value: an optional
/// sign, then [`base0`]; negative numbers wrap, the result is cut to 32 bits.
pub fn c_ulong_u32(s: &str) -> Option<u32> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = base0(rest)?;
    let v = if neg {
        if v == u64::MAX {
            u64::MAX
        } else {
            v.wrapping_neg()
        }
    } else {
        v
    };
    // keepalived keeps the table in 32 bits: the high half is dropped.
    Some((v & u64::from(u32::MAX)) as u32)
}

/// A 32-bit number in base 0 with no sign and no overflow (a fwmark or its mask).
pub fn strict_u32(s: &str) -> Option<u32> {
    base0(s).and_then(|v| u32::try_from(v).ok())
}

/// `fwmark MARK[/MASK]`; `MARK/` is taken as `MARK` (keepalived accepts it).
pub fn fwmark(s: &str) -> Option<(u32, Option<u32>)> {
    match s.split_once('/') {
        None => Some((strict_u32(s)?, None)),
        Some((m, "")) => Some((strict_u32(m)?, None)),
        Some((m, k)) => Some((strict_u32(m)?, Some(strict_u32(k)?))),
    }
}

/// The names of an `rt_tables` file (`NUMBER NAME` lines, `#` comments), with the four
/// names that are always known.
pub fn parse(text: &str) -> HashMap<String, u32> {
    let mut names: HashMap<String, u32> = [("unspec", 0), ("default", 253), ("main", 254)]
        .into_iter()
        .chain([("local", 255)])
        .map(|(n, t)| (n.to_string(), t))
        .collect();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(num), Some(name)) = (words.next(), words.next()) else {
            continue;
        };
        if let Some(t) = base0(num).and_then(|v| u32::try_from(v).ok()) {
            names.insert(name.to_string(), t);
        }
    }
    names
}

/// A table given as a number or a name from `names`.
pub fn table(s: &str, names: &HashMap<String, u32>) -> Option<u32> {
    c_ulong_u32(s).or_else(|| names.get(s).copied())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Each form with keepalived 2.2.7's `-t` verdict on `table X` in `virtual_rules`.
    #[test]
    fn tables_as_keepalived_reads_them() {
        let names = parse("255 local\n100\tcustom\n0x20 hexname\n# 7 commented\n");
        // accepted (exit 0)
        assert_eq!(table("100", &names), Some(100));
        assert_eq!(table("0x10", &names), Some(16));
        assert_eq!(table("010", &names), Some(8));
        assert_eq!(table("main", &names), Some(254));
        assert_eq!(table("local", &names), Some(255));
        assert_eq!(table("default", &names), Some(253));
        assert_eq!(table("custom", &names), Some(100));
        assert_eq!(table("hexname", &names), Some(32));
        assert_eq!(table("4294967295", &names), Some(u32::MAX));
        assert_eq!(table("4294967297", &names), Some(1));
        assert_eq!(table("-1", &names), Some(u32::MAX));
        assert_eq!(table("99999999999999999999", &names), Some(u32::MAX));
        // "Table 0 is not valid" (exit 5) for a rule; a route takes 0 as "main".
        assert_eq!(table("0", &names), Some(0));
        assert_eq!(table("00", &names), Some(0));
        assert_eq!(table("4294967296", &names), Some(0));
        assert_eq!(table("unspec", &names), Some(0));
        // "Routing table X not found" (exit 5)
        for bad in ["foo", "12abc", "MAIN", "08", "0x", "commented", ""] {
            assert_eq!(table(bad, &names), None, "{bad}");
        }
    }

    /// Each form with keepalived 2.2.7's `-t` verdict on `fwmark X` in `virtual_rules`.
    #[test]
    fn fwmarks_as_keepalived_reads_them() {
        // accepted (exit 0)
        assert_eq!(fwmark("7"), Some((7, None)));
        assert_eq!(fwmark("0"), Some((0, None)));
        assert_eq!(fwmark("010"), Some((8, None)));
        assert_eq!(fwmark("0x10/0xff"), Some((16, Some(255))));
        assert_eq!(fwmark("7/"), Some((7, None)));
        assert_eq!(fwmark("4294967295"), Some((u32::MAX, None)));
        // "Invalid rule fwmark X specified" (exit 5)
        for bad in [
            "x",
            "7/x",
            "-1",
            "4294967296",
            "08",
            "0x",
            "7/08",
            "7//1",
            "7/0xffffffff1",
        ] {
            assert_eq!(fwmark(bad), None, "{bad}");
        }
    }
}
