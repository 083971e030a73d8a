//! The status page on the metrics listener (`GET /`): one server-rendered HTML page, no
//! script and no external asset, that reloads itself every few seconds — instances and
//! real servers with their states in colour.

use super::status::Status;
use std::fmt::Write as _;

/// Seconds between the page's own reloads.
pub const REFRESH_S: u32 = 5;

/// Text made safe inside HTML.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The CSS class of a state or of up/down.
fn class(state: &str) -> &'static str {
    match state {
        "MASTER" | "UP" => "good",
        "BACKUP" => "standby",
        "FAULT" | "DOWN" => "bad",
        _ => "other",
    }
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}\
table{border-collapse:collapse}th,td{padding:.3em .8em;border:1px solid #ccc;text-align:left}\
th{background:#eee}.good{background:#8d8;font-weight:bold}.standby{background:#9cf}\
.bad{background:#f88;font-weight:bold}.other{background:#ddd}.meta{color:#555}";

/// The page for `s` at `now` (seconds since the epoch).
pub fn render(s: &Status, now: f64) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_S}\">\
         <title>keepalived-rs status</title><style>{STYLE}</style></head><body>\n\
         <h1>keepalived-rs status</h1>\n<p class=\"meta\">{} &middot; pid {} &middot; up {} s \
         &middot; config {} &middot; reloads {} (refused {})</p>\n",
        esc(&s.version),
        s.pid,
        s.uptime_s,
        esc(&s.config_file),
        s.reloads,
        s.reloads_refused
    );
    h.push_str(
        "<h2>VRRP instances</h2>\n<table id=\"vrrp\"><tr><th>instance</th><th>state</th>\
                <th>priority (base)</th><th>VRID</th><th>interface</th><th>VIPs</th>\
                <th>in state for</th><th>adverts in / out</th></tr>\n",
    );
    for i in &s.vrrp {
        let since = i.last_transition.map_or_else(
            || format!("{} s", s.uptime_s),
            |t| format!("{:.0} s", (now - t).max(0.0)),
        );
        let adverts = match (i.stats.get("advert_rcvd"), i.stats.get("advert_sent")) {
            (Some(r), Some(t)) => format!("{r} / {t}"),
            _ => "-".into(),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"{}\">{}</td><td>{} ({})</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i.iname),
            class(&i.state_name),
            esc(&i.state_name),
            i.effective_priority,
            i.base_priority,
            i.vrid,
            esc(i.ifp_ifname.as_deref().unwrap_or("-")),
            esc(&i.vips.join(" ")),
            since,
            adverts
        );
    }
    h.push_str("</table>\n");
    if !s.services.is_empty() {
        h.push_str("<h2>Virtual and real servers</h2>\n<table id=\"servers\"><tr>");
        for c in super::status::SERVICE_COLUMNS {
            let _ = write!(h, "<th>{c}</th>");
        }
        h.push_str("</tr>\n");
        for v in &s.services {
            let row = super::status::service_row(v);
            h.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                if i == 2 {
                    let _ = write!(
                        h,
                        "<td class=\"{}\">{}</td>",
                        class(if v.up { "UP" } else { "DOWN" }),
                        esc(cell)
                    );
                } else {
                    let _ = write!(h, "<td>{}</td>", esc(cell));
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }
    h.push_str(
        "<h2>Processes</h2>\n<table id=\"children\"><tr><th>child</th><th>pid</th>\
                <th>restarts</th></tr>\n",
    );
    for c in &s.children {
        let pid = c.pid.map_or_else(
            || {
                if c.wanted {
                    "not running".into()
                } else {
                    "not needed".into()
                }
            },
            |p| p.to_string(),
        );
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{pid}</td><td>{}</td></tr>",
            esc(&c.role),
            c.restarts
        );
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::status::{InstanceStatus, ServiceStatus};

    #[test]
    fn names_are_escaped_and_states_coloured() {
        let s = Status {
            pid: 1,
            version: "keepalived-rs 0.1.0".into(),
            uptime_s: 5,
            config_file: "/etc/k.conf".into(),
            config_loaded: 0.0,
            config_hash: "0123456789abcdef".into(),
            reloads: 0,
            reloads_refused: 0,
            children: vec![],
            vrrp: vec![InstanceStatus {
                iname: "<script>".into(),
                vrid: 1,
                family: 4,
                state: 3,
                state_name: "FAULT".into(),
                base_priority: 100,
                effective_priority: 100,
                ..Default::default()
            }],
            services: vec![ServiceStatus {
                weight: Some(0),
                disabled: Some(true),
                ..ServiceStatus::new("v".into(), Some("r<b>".into()), true)
            }],
            checks: Default::default(),
            ipvs: Vec::new(),
            scripts: Default::default(),
        };
        let h = render(&s, 0.0);
        assert!(
            h.contains("&lt;script&gt;") && !h.contains("<script>"),
            "{h}"
        );
        assert!(h.contains("<td class=\"bad\">FAULT</td>"), "{h}");
        assert!(
            h.contains("<td class=\"good\">UP (disabled)</td><td>0</td>"),
            "{h}"
        );
        assert!(h.contains("<td>r&lt;b&gt;</td>"), "{h}");
        assert!(h.contains("<th>latency</th>"), "{h}");
        assert!(h.contains("http-equiv=\"refresh\""));
        assert!(
            !h.contains("http://") && !h.contains("https://"),
            "no external asset"
        );
    }
}
