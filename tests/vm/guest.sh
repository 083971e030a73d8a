#!/bin/sh
# Runs INSIDE the VM kernel booted by `cargo xtask test vm` / `cargo xtask bench ipvs`.
# $1 is the --rwdir folder shared with the host. It holds plan.txt: one check per line,
# "NAME<TAB>COMMAND LINE". Each check's output goes to NAME.log and its exit code to
# results.txt as "NAME CODE"; a final "END" line says the script ran to completion
# (vng itself always exits 255, so the host reads this file, never vng's status).
OUT="$1"
exec >"$OUT/guest.log" 2>&1
set -u
echo "kernel $(uname -r), $(nproc) cpus"
modprobe ip_vs || echo "modprobe ip_vs failed"
modprobe nlmon || echo "modprobe nlmon failed (no ipvsadm captures)"
# The VM has no syslog: give keepalived a /dev/log sink so logging stays cheap.
if [ ! -S /dev/log ] && command -v busybox >/dev/null; then
    busybox syslogd -n -O "$OUT/syslog.txt" &
fi
: >"$OUT/results.txt"
while IFS='	' read -r name cmd; do
    [ -z "$name" ] && continue
    echo "== $name: $cmd"
    start=$(date +%s)
    (cd /tmp && KA_IPVS_VM=1 KA_REQUIRE_ROOT_TESTS=1 RUST_BACKTRACE=1 OUT="$OUT" sh -c "$cmd") \
        >"$OUT/$name.log" 2>&1
    rc=$?
    echo "$name $rc" >>"$OUT/results.txt"
    echo "== $name: exit $rc after $(( $(date +%s) - start )) s"
done <"$OUT/plan.txt"
echo END >>"$OUT/results.txt"
