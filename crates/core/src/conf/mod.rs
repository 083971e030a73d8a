//! The keepalived.conf language.
