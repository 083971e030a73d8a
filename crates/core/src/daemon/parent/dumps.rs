//! Dumps and status reports asked of the children, and who gets each answer: a file (the
//! signal dumps, as keepalived writes them), `ctl dump`, or a `ctl status` (or an HTTP
//! scrape) that wants the VRRP child's counters and VIPs and the checker child's servers
//! and checks. A child answers every `Dump` with exactly one `DumpText` and every `Status`
//! with exactly one typed `Status`, each in order, so one queue per child and kind says
//! whose each answer is; a status waits for the report of every child that was asked.
//! Nothing of a report is kept once its answer is written.

use super::{idx, Link, Parent, Role};
use crate::control::http::Route;
use crate::control::{merge_checker, merge_vrrp, Answer, CheckerReport, Status, VrrpReport};
use ka_proto::ipc::checker::ToChecker;
use ka_proto::ipc::vrrp::ToVrrp;
use ka_proto::ipc::DumpKind;
use mio::Token;
use std::collections::VecDeque;

/// Who gets a dump's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Waiter {
    /// keepalived's file under the dump directory (a signal asked for it).
    File,
    /// A `ctl dump` connection (one part of its answer).
    Ctl(Token),
    /// A `ctl status` connection waiting for the children's reports.
    Status(Token),
    /// An HTTP client (metrics, status page) waiting for the children's reports.
    Http(Token, Route),
}

/// A child's answer to a status request.
#[derive(Debug)]
pub(super) enum Report {
    Vrrp(Box<VrrpReport>),
    Checker(Box<CheckerReport>),
}

/// What a status (or HTTP) answer waits for: the children's reports.
#[derive(Debug, Default)]
struct Parts {
    /// Children asked that have not answered.
    left: usize,
    vrrp: Option<Box<VrrpReport>>,
    checker: Option<Box<CheckerReport>>,
}

/// One queue per child for dumps, one for status reports.
#[derive(Debug, Default)]
pub(super) struct Waiters {
    q: [VecDeque<Waiter>; 2],
    /// Who gets each child's next status report.
    sq: [VecDeque<Waiter>; 2],
    /// Per `ctl dump` connection: the parts still to come.
    left: std::collections::BTreeMap<Token, usize>,
    /// Per status / HTTP connection: the reports received and the children still to
    /// answer.
    parts: std::collections::BTreeMap<Token, Parts>,
    /// Who gets each `RealServerDone` of the checker child, in order (None: a resend after
    /// its start, nobody waits).
    pub(super) real_server: VecDeque<Option<Token>>,
}

impl Waiters {
    /// A child's report (None: the child is gone) for `t`; the parts once every child
    /// asked answered.
    fn part(&mut self, t: Token, r: Option<Report>) -> Option<Parts> {
        let p = self.parts.entry(t).or_default();
        match r {
            Some(Report::Vrrp(r)) => p.vrrp = Some(r),
            Some(Report::Checker(r)) => p.checker = Some(r),
            None => {}
        }
        p.left = p.left.saturating_sub(1);
        if p.left == 0 {
            self.parts.remove(&t)
        } else {
            None
        }
    }
}

impl Parent {
    /// Ask `role` for a dump of `kind`; `w` gets the text. False when the child cannot be
    /// asked (not running). A child answers every `Dump`, even before it has started
    /// (with an empty text).
    pub(super) fn ask_dump(&mut self, role: Role, kind: DumpKind, w: Waiter) -> bool {
        let i = idx(role);
        let sent = match self.slots[i].chan.as_mut() {
            Some(Link::Vrrp(c)) => c.send(&ToVrrp::Dump(kind)),
            Some(Link::Checker(c)) => c.send(&ToChecker::Dump(kind)),
            None => return false,
        };
        let ok = sent.is_ok();
        if ok {
            self.waiters.q[i].push_back(w);
        }
        self.sent(role, sent);
        ok
    }

    /// A child's dump text: to whoever asked for it.
    pub(super) fn on_dump_text(&mut self, role: Role, kind: DumpKind, text: String) {
        match self.waiters.q[idx(role)].pop_front() {
            None | Some(Waiter::File) => self.write_child_dump(role, kind, &text),
            Some(w) => self.deliver(w, Some(text)),
        }
    }

    /// `role` is gone: nobody waits for it any more.
    pub(super) fn forget_waiters(&mut self, role: Role) {
        if role == Role::Checker {
            let pending: Vec<Option<Token>> = self.waiters.real_server.drain(..).collect();
            for t in pending.into_iter().flatten() {
                let message = "the checker child exited before it answered".into();
                self.reply(t, &Answer::Error { message }, true);
            }
        }
        let pending: Vec<Waiter> = self.waiters.q[idx(role)].drain(..).collect();
        for w in pending {
            self.deliver(w, None);
        }
        let pending: Vec<Waiter> = self.waiters.sq[idx(role)].drain(..).collect();
        for w in pending {
            self.report_to(w, None);
        }
    }

    /// A child's status report: to whoever asked for it.
    pub(super) fn on_report(&mut self, r: Report) {
        let role = match r {
            Report::Vrrp(_) => Role::Vrrp,
            Report::Checker(_) => Role::Checker,
        };
        match self.waiters.sq[idx(role)].pop_front() {
            Some(w) => self.report_to(w, Some(r)),
            None => log::debug!("a status report nobody asked for"),
        }
    }

    fn report_to(&mut self, w: Waiter, r: Option<Report>) {
        if let Waiter::Status(t) | Waiter::Http(t, _) = w {
            if let Some(p) = self.waiters.part(t, r) {
                self.answer_status(w, p);
            }
        }
    }

    fn deliver(&mut self, w: Waiter, text: Option<String>) {
        match w {
            Waiter::File | Waiter::Status(_) | Waiter::Http(..) => {}
            Waiter::Ctl(t) => {
                if let Some(text) = text {
                    self.reply(t, &Answer::Dump { text }, false);
                }
                self.dump_part_done(t);
            }
        }
    }

    /// `ctl dump`: the parent's own part (for `data`), then each child's.
    pub(super) fn ctl_dump(&mut self, t: Token, kind: DumpKind) {
        if kind == DumpKind::Data {
            let text = self.parent_dump();
            self.reply(t, &Answer::Dump { text }, false);
        }
        let mut asked = 0;
        for &role in crate::daemon::dump::recipients(kind) {
            if self.ask_dump(role, kind, Waiter::Ctl(t)) {
                asked += 1;
            }
        }
        if asked == 0 {
            self.reply(t, &Answer::DumpEnd, true);
        } else {
            self.waiters.left.insert(t, asked);
        }
    }

    fn dump_part_done(&mut self, t: Token) {
        let left = self.waiters.left.get(&t).copied().unwrap_or(1);
        if left <= 1 {
            self.waiters.left.remove(&t);
            self.reply(t, &Answer::DumpEnd, true);
        } else {
            self.waiters.left.insert(t, left - 1);
        }
    }

    /// `ctl status`: with the children's reports when they can be asked, else at once.
    pub(super) fn ctl_status(&mut self, t: Token) {
        self.ask_children(Waiter::Status(t));
    }

    /// Ask every running child for its report for `w` (a status or HTTP waiter); answered
    /// once all have answered (at once when none can be asked).
    pub(super) fn ask_children(&mut self, w: Waiter) {
        let (Waiter::Status(t) | Waiter::Http(t, _)) = w else {
            return;
        };
        // Counted before asking: an answer cannot come back within this call.
        let mut asked = 0;
        for role in [Role::Vrrp, Role::Checker] {
            if self.ask_report(role, w) {
                asked += 1;
            }
        }
        if asked == 0 {
            self.answer_status(w, Parts::default());
        } else {
            self.waiters.parts.insert(
                t,
                Parts {
                    left: asked,
                    ..Parts::default()
                },
            );
        }
    }

    /// Ask `role` for its status report; `w` gets it. False when the child cannot be
    /// asked (not running). A child answers every `Status`, even before it has started
    /// (with an empty report).
    fn ask_report(&mut self, role: Role, w: Waiter) -> bool {
        let i = idx(role);
        let sent = match self.slots[i].chan.as_mut() {
            Some(Link::Vrrp(c)) => c.send(&ToVrrp::Status),
            Some(Link::Checker(c)) => c.send(&ToChecker::Status),
            None => return false,
        };
        let ok = sent.is_ok();
        if ok {
            self.waiters.sq[i].push_back(w);
        }
        self.sent(role, sent);
        ok
    }

    /// The parent's view with what the children said.
    fn merged_status(&self, p: Parts) -> Status {
        let mut s = self.status();
        if let Some(r) = p.vrrp {
            merge_vrrp(&mut s, *r);
        }
        if let Some(r) = p.checker {
            merge_checker(&mut s, *r);
        }
        s
    }

    fn answer_status(&mut self, w: Waiter, p: Parts) {
        let s = self.merged_status(p);
        match w {
            Waiter::Status(t) => self.reply(t, &Answer::Status(Box::new(s)), true),
            Waiter::Http(t, route) => self.http_reply(t, route, s),
            Waiter::File | Waiter::Ctl(_) => {}
        }
        // The status of every instance and server was built and dropped: its small blocks
        // freed in the middle of the heap go back to the kernel (well under a ms), so
        // the parent stays within its bound between scrapes.
        crate::mem::trim();
    }
}
