//! keepalived's command line.
