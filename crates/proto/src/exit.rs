//! keepalived's process exit codes (`lib/scheduler.h`), the one list: a child returns one
//! of these and the parent reads it (a permanent error stops the parent with the same
//! code); `keepalived -t` returns [`CONFIG_TEST`] or [`SCRIPT_SECURITY`].

/// Success.
pub const OK: i32 = 0;
/// Unrecoverable error: the parent stops with this code.
pub const FATAL: i32 = 1;
/// Configuration error: the parent stops with this code.
pub const CONFIG: i32 = 2;
/// Missing capability or permission: the parent stops with this code.
pub const MISSING_PERMISSION: i32 = 4;
/// `-t`: the configuration has errors or warnings.
pub const CONFIG_TEST: i32 = 5;
/// No configuration file.
pub const NO_CONFIG: i32 = 6;
/// `-t`: a script fails `enable_script_security` (the same number as [`NO_CONFIG`]).
pub const SCRIPT_SECURITY: i32 = 6;
/// A bug (a panic in a child body), or a protocol error with the parent: the child is
/// restarted.
pub const PROGRAM_ERROR: i32 = 70;

/// keepalived's name for a permanent exit code, `None` for codes that get a respawn.
pub fn permanent_name(code: i32) -> Option<&'static str> {
    match code {
        FATAL => Some("FATAL"),
        CONFIG => Some("CONFIG"),
        MISSING_PERMISSION => Some("MISSING_PERMISSION"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_numbers() {
        assert_eq!(
            [
                OK,
                FATAL,
                CONFIG,
                MISSING_PERMISSION,
                CONFIG_TEST,
                NO_CONFIG,
                PROGRAM_ERROR
            ],
            [0, 1, 2, 4, 5, 6, 70]
        );
        assert_eq!(SCRIPT_SECURITY, 6);
    }

    #[test]
    fn only_fatal_config_and_permission_are_permanent() {
        assert_eq!(permanent_name(FATAL), Some("FATAL"));
        assert_eq!(permanent_name(CONFIG), Some("CONFIG"));
        assert_eq!(
            permanent_name(MISSING_PERMISSION),
            Some("MISSING_PERMISSION")
        );
        for respawned in [OK, PROGRAM_ERROR, 3, 139, -1] {
            assert_eq!(permanent_name(respawned), None, "{respawned}");
        }
    }
}
