//! From the statement tree to the typed model, one module per block family.
//!
//! Every keyword keepalived 2.2.7 knows in a block is recognised; the ones that the
//! model does not carry are accepted silently (keepalived would accept them too).
//! Unknown keywords are warned about and skipped with their block, as keepalived does.

mod addr;
mod checker;
mod global;
mod hmac;
mod lvs;
mod own;
pub mod required;
mod rt_tables;
mod track;
mod values;
mod vrrp;

use values::keep;
pub use values::Ctx;

use super::tree::Node;
use ka_proto::config::Config;

/// Fill a [`Config`] from the top-level statements.
pub fn build(ctx: &mut Ctx, top: &[Node<'_>]) -> Config {
    build_into(ctx, top, ka_proto::config::GlobalDefs::default())
}

/// Like [`build`], starting from `global` (so instances inherit its values even when
/// `global_defs` comes later in the file).
pub fn build_into<'x, 'b: 'x>(
    ctx: &mut Ctx,
    top: impl IntoIterator<Item = &'x Node<'b>>,
    global: ka_proto::config::GlobalDefs,
) -> Config {
    let mut c = Config {
        global,
        ..Config::default()
    };
    for n in top {
        build_node(ctx, n, &mut c);
    }
    c
}

/// Build one top-level statement into `c`. A statement keepalived cannot read for want
/// of a value (see [`required`]) ends the reading: what it said about the lines before
/// stays, then the fatal diagnostic.
pub fn build_node(ctx: &mut Ctx, n: &Node<'_>, c: &mut Config) {
    let start = ctx.diags.len();
    build_statement(ctx, n, c);
    let found = required::missing_values(n);
    ctx.reword_missing(start, &found.said);
    if let Some(stop) = found.stop {
        ctx.stop_at(start, stop);
    }
}

fn build_statement(ctx: &mut Ctx, n: &Node<'_>, c: &mut Config) {
    match n.keyword() {
        "global_defs" => {
            if ctx.need_block(n) {
                global::global_defs(ctx, n, &mut c.global);
            }
        }
        "net_namespace" => keep(&mut c.net_namespace, ctx.str_arg(n, 0)),
        // Without a name: IPVS in the default namespace (keepalived accepts it silently).
        "net_namespace_ipvs" => c.net_namespace_ipvs = n.arg(0).map(|w| w.text.to_string()),
        "instance" => keep(&mut c.instance, ctx.str_arg(n, 0)),
        "use_pid_dir" => c.use_pid_dir = true,
        "child_wait_time" => {
            if let Some(v) = ctx.uint(n, 0, 0, u32::MAX as u64) {
                c.child_wait_time = std::time::Duration::from_secs(v);
            }
        }
        "linkbeat_use_polling" => c.linkbeat_use_polling = true,
        "vrrp_script" => track::vrrp_script(ctx, n, c),
        "track_file" | "vrrp_track_file" => track::track_file(ctx, n, c),
        "vrrp_track_process" => track::track_process(ctx, n, c),
        "track_group" => track::track_group(ctx, n, c),
        "linkbeat_interfaces" => track::linkbeat_interfaces(ctx, n, c),
        "interface_up_down_delays" => track::interface_up_down_delays(ctx, n, c),
        "garp_group" => vrrp::garp_group(ctx, n, c),
        "vrrp_sync_group" => vrrp::sync_group(ctx, n, c),
        "vrrp_instance" => vrrp::instance(ctx, n, c),
        "static_ipaddress" => {
            c.static_ipaddress
                .extend(addr::lines(ctx, n, true, addr::ip_address))
        }
        "static_routes" => c
            .static_routes
            .extend(addr::lines(ctx, n, true, addr::route)),
        "static_rules" => c.static_rules.extend(addr::lines(ctx, n, true, addr::rule)),
        "virtual_server_group" => lvs::virtual_server_group(ctx, n, c),
        "virtual_server" => lvs::virtual_server(ctx, n, c),
        "SSL" => lvs::ssl(ctx, n, c),
        "keepalived_rs" => {
            if ctx.need_block(n) {
                own::settings(ctx, n, &mut c.keepalived_rs);
            }
        }
        "bfd_instance" => {
            ctx.warn(
                    n.loc,
                    "bfd_instance is not supported by keepalived-rs (BFD is out of scope): block ignored",
                );
            if let Some(name) = n.arg(0) {
                c.bfd_instances.push(name.text.to_string());
            }
        }
        _ => ctx.unknown(n),
    }
}
