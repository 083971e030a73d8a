//! keepalived-rs: the parent process, the CLI and the config parser.
