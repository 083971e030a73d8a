//! `keepalived_rs { }`: keepalived-rs's own settings in keepalived.conf. keepalived
//! 2.2.7 warns "unknown keyword 'keepalived_rs'" and skips the block, so a file that has
//! one still serves both daemons.

use super::values::keep;
use super::Ctx;
use crate::conf::tree::Node;
use ka_proto::config::OwnSettings;

/// Fill `o` from the block of `n`.
pub fn settings(ctx: &mut Ctx, n: &Node<'_>, o: &mut OwnSettings) {
    for k in n.block() {
        match k.keyword() {
            "metrics_listen" => {
                let Some(v) = ctx.need(k, 0) else {
                    continue;
                };
                match crate::cli::parse_listen(v) {
                    Some(a) => o.metrics_listen = Some(a),
                    None => {
                        let loc = ctx.arg_loc(k, 0);
                        ctx.error(loc, format!("metrics_listen: {v:?} is not [ADDR:]PORT"));
                    }
                }
            }
            "control_socket" => keep(&mut o.control_socket, ctx.str_arg(k, 0)),
            "control_group" => keep(&mut o.control_group, ctx.str_arg(k, 0)),
            _ => ctx.unknown(k),
        }
    }
}
