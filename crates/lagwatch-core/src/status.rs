//! Status values, with Burrow's numbering (which is also their order of severity).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Status of one partition of a consumer group, as Burrow reports it.
///
/// The numeric value (`as u8`) is Burrow's: OK 1, WARN 2, STOP 4, STALL 5, REWIND 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PartitionStatus {
    /// The consumer keeps up, or there is not enough evidence of a problem.
    Ok = 1,
    /// Commits advance but lag never shrank across the whole window.
    Warn = 2,
    /// Commits stopped while lag is above the allowed lag.
    Stop = 4,
    /// Commits continue but the committed offset does not move, and lag is above the allowed lag.
    Stall = 5,
    /// The committed offset went backwards and has not recovered within the window.
    Rewind = 6,
}

impl PartitionStatus {
    /// All partition statuses, least severe first.
    pub const ALL: [PartitionStatus; 5] = [
        PartitionStatus::Ok,
        PartitionStatus::Warn,
        PartitionStatus::Stop,
        PartitionStatus::Stall,
        PartitionStatus::Rewind,
    ];

    /// Burrow's string for this status (`"OK"`, `"WARN"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            PartitionStatus::Ok => "OK",
            PartitionStatus::Warn => "WARN",
            PartitionStatus::Stop => "STOP",
            PartitionStatus::Stall => "STALL",
            PartitionStatus::Rewind => "REWIND",
        }
    }

    /// The group status a partition in this state pushes its group to: STOP, STALL and REWIND
    /// are all reported as ERR at group level, exactly as Burrow does.
    pub fn group_level(self) -> GroupStatus {
        match self {
            PartitionStatus::Ok => GroupStatus::Ok,
            PartitionStatus::Warn => GroupStatus::Warn,
            PartitionStatus::Stop | PartitionStatus::Stall | PartitionStatus::Rewind => {
                GroupStatus::Err
            }
        }
    }

    /// Telegraf's `status_code` for this status (`inputs.burrow` table: OK 1, WARN 3, STOP 5,
    /// STALL 6, and 0 for REWIND, which Telegraf's table lacks).
    pub fn telegraf_code(self) -> i64 {
        telegraf_status_code(self.as_str())
    }
}

impl fmt::Display for PartitionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Status of a whole consumer group, as Burrow reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum GroupStatus {
    /// The cluster or group is unknown (or the group expired).
    NotFound = 0,
    /// Every partition is OK.
    Ok = 1,
    /// At least one partition is WARN and none is worse.
    Warn = 2,
    /// At least one partition is STOP, STALL or REWIND.
    Err = 3,
}

impl GroupStatus {
    /// Burrow's string for this status (`"NOTFOUND"`, `"OK"`, `"WARN"`, `"ERR"`).
    pub fn as_str(self) -> &'static str {
        match self {
            GroupStatus::NotFound => "NOTFOUND",
            GroupStatus::Ok => "OK",
            GroupStatus::Warn => "WARN",
            GroupStatus::Err => "ERR",
        }
    }

    /// Telegraf's `status_code` for this status (OK 1, WARN 3, ERR 4; NOTFOUND maps to 0
    /// because Telegraf's table spells it `NOT_FOUND`).
    pub fn telegraf_code(self) -> i64 {
        telegraf_status_code(self.as_str())
    }

    /// Parses Burrow's string form.
    pub fn parse(s: &str) -> Option<GroupStatus> {
        match s {
            "NOTFOUND" => Some(GroupStatus::NotFound),
            "OK" => Some(GroupStatus::Ok),
            "WARN" => Some(GroupStatus::Warn),
            "ERR" => Some(GroupStatus::Err),
            _ => None,
        }
    }
}

impl fmt::Display for GroupStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Telegraf's `inputs.burrow` mapping from a status string to `status_code`, quirks included:
/// `NOT_FOUND` (which Burrow never sends) is 2, and anything not in the table is 0.
pub fn telegraf_status_code(status: &str) -> i64 {
    match status {
        "OK" => 1,
        "NOT_FOUND" => 2,
        "WARN" => 3,
        "ERR" => 4,
        "STOP" => 5,
        "STALL" => 6,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegraf_codes_reproduce_the_plugin_table() {
        assert_eq!(PartitionStatus::Ok.telegraf_code(), 1);
        assert_eq!(PartitionStatus::Warn.telegraf_code(), 3);
        assert_eq!(PartitionStatus::Stop.telegraf_code(), 5);
        assert_eq!(PartitionStatus::Stall.telegraf_code(), 6);
        assert_eq!(PartitionStatus::Rewind.telegraf_code(), 0);
        assert_eq!(GroupStatus::Err.telegraf_code(), 4);
        assert_eq!(GroupStatus::NotFound.telegraf_code(), 0);
    }

    #[test]
    fn group_level_caps_at_err() {
        assert_eq!(PartitionStatus::Rewind.group_level(), GroupStatus::Err);
        assert_eq!(PartitionStatus::Warn.group_level(), GroupStatus::Warn);
        assert!(GroupStatus::Err > GroupStatus::Warn);
    }
}
