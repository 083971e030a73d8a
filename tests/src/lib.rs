//! Helpers shared by the cross-crate tests (namespaces, processes, probes).
