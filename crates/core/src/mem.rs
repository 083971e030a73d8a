//! The process's memory: giving freed heap back to the kernel, and what is in use.
//!
//! glibc keeps freed memory in its arenas: after a big structure (a parsed configuration,
//! a plan) is dropped, the pages stay resident and count in the process's RSS, and in the
//! RSS of every child forked later (the child maps the parent's resident pages). [`trim`]
//! returns the free pages to the kernel; it runs where a large structure has just gone
//! (after loading a configuration, before forking a child, after a child has planned).

/// Blocks at least this big are mmapped (and unmapped when freed).
pub const MMAP_THRESHOLD: usize = 128 * 1024;
/// Free memory at the top of the heap beyond this goes back to the kernel at once.
pub const TRIM_THRESHOLD: usize = 256 * 1024;

/// Fix glibc's thresholds (the process and every child forked later). By default glibc
/// raises both each time a big mmapped block is freed: after the configuration's vectors
/// (megabytes at 10,000 instances) went, every later big buffer was carved from the heap
/// and megabytes of freed heap stayed resident for good. Fixed, big blocks are always
/// mmapped (and returned when freed) and a free heap top beyond [`TRIM_THRESHOLD`] is
/// returned at once.
pub fn tune() {
    for (param, value) in [
        (libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD),
    ] {
        crate::sys::mallopt(param, value);
    }
}

/// How often an idle loop gives freed memory back ([`Trimmer`]).
pub const TRIM_PERIOD: std::time::Duration = std::time::Duration::from_secs(5);

/// Trims now and then from an event loop about to sleep: what a burst (a mass transition
/// to MASTER, a reload) allocated and freed again is returned to the kernel instead of
/// staying resident (glibc returns only the top of the heap by itself). At most once per
/// [`TRIM_PERIOD`]; a trim of a few megabytes of heap takes well under a millisecond.
#[derive(Debug)]
pub struct Trimmer {
    next: std::time::Instant,
}

impl Default for Trimmer {
    fn default() -> Self {
        Trimmer {
            next: std::time::Instant::now() + TRIM_PERIOD,
        }
    }
}

impl Trimmer {
    /// The loop is about to sleep at `now`: trim if the period has passed. Returns whether
    /// it trimmed.
    pub fn idle(&mut self, now: std::time::Instant) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now + TRIM_PERIOD;
        trim();
        true
    }
}

/// Bytes in pages of their own that a forked child does not inherit (`MADV_DONTFORK`).
///
/// For what only the parent reads (its encoded configuration): a child forked by the
/// parent maps every resident page of the parent's, which counts in the child's RSS for
/// the child's whole life although the child never reads them. A child must never touch a
/// `ParentOnly` it inherited (the pages are not there): the children forked by the daemon
/// leave with `_exit` and never return into the parent's code, so none does.
pub struct ParentOnly(crate::sys::DontForkBytes);

impl ParentOnly {
    /// A copy of `bytes`.
    pub fn new(bytes: &[u8]) -> std::io::Result<ParentOnly> {
        crate::sys::DontForkBytes::new(bytes).map(ParentOnly)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl std::fmt::Debug for ParentOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ParentOnly({} bytes)", self.0.len())
    }
}

/// glibc's view of the heap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes in use (allocated and not freed), arenas and mmapped blocks together.
    pub in_use: usize,
    /// Bytes free but still held by the allocator.
    pub free: usize,
}

/// Give the free memory of every malloc arena back to the kernel (`malloc_trim(0)`).
/// Returns whether any memory was released.
pub fn trim() -> bool {
    crate::sys::malloc_trim()
}

/// What the allocator holds (`mallinfo2`).
pub fn heap() -> HeapStats {
    let (arenas, mmapped, free) = crate::sys::mallinfo();
    HeapStats {
        in_use: arenas + mmapped,
        free,
    }
}

/// This process's resident set from `/proc/self/status`, in kB: (VmRSS, RssAnon).
pub fn resident_kb() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = s.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("RssAnon:")?))
}

/// A one-line summary for the log: `heap 1.2 MB in use, 0.3 MB free; RSS 5.1 MB (anon 2.0)`.
pub fn summary() -> String {
    let h = heap();
    let mb = |b: usize| b as f64 / 1_048_576.0;
    let mut s = format!(
        "heap {:.1} MB in use, {:.1} MB free",
        mb(h.in_use),
        mb(h.free)
    );
    if let Some((rss, anon)) = resident_kb() {
        s.push_str(&format!(
            "; RSS {:.1} MB (anon {:.1})",
            rss as f64 / 1024.0,
            anon as f64 / 1024.0
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_counts_a_live_allocation_and_trim_runs() {
        // Other tests allocate on other threads meanwhile: absolute bounds only.
        let v = vec![1u8; 4 << 20];
        assert!(heap().in_use >= 4 << 20);
        drop(v);
        let _ = trim();
        let (rss, anon) = resident_kb().unwrap();
        assert!(rss > 0 && anon > 0 && anon <= rss);
        assert!(summary().starts_with("heap "));
    }

    #[test]
    fn parent_only_bytes_are_not_inherited() {
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let p = ParentOnly::new(&data).unwrap();
        assert_eq!(p.as_slice(), &data[..]);
        assert!(ParentOnly::new(&[]).unwrap().as_slice().is_empty());
        // The mapping is marked "not in a child": /proc/self/smaps lists it with `dc`.
        let start = format!("{:x}-", p.as_slice().as_ptr() as usize);
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let flags = smaps
            .lines()
            .skip_while(|l| !l.starts_with(&start))
            .find(|l| l.starts_with("VmFlags"))
            .unwrap_or_default();
        assert!(
            flags.starts_with("VmFlags") && flags.contains(" dc"),
            "{flags}"
        );
    }

    #[test]
    fn trimmer_trims_at_most_once_a_period() {
        let mut t = Trimmer::default();
        let now = std::time::Instant::now();
        assert!(!t.idle(now), "not before the first period");
        assert!(t.idle(now + TRIM_PERIOD));
        assert!(!t.idle(now + TRIM_PERIOD + TRIM_PERIOD / 2));
        assert!(t.idle(now + TRIM_PERIOD * 2));
    }
}
