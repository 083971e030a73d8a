//! The typed model of `keepalived.conf`.

use serde::{Deserialize, Serialize};

/// A whole parsed configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_round_trips_through_json() {
        let c = Config::default();
        let s = serde_json::to_string(&c).expect("serialise");
        let back: Config = serde_json::from_str(&s).expect("deserialise");
        assert_eq!(c, back);
    }
}
