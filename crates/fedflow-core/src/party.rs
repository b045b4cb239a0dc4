//! Roles and parties.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A party id as FATE uses them (9999, 10000, …; 0 for the `local` role of uploads).
pub type PartyId = u64;

/// The role a party plays in a job. One party id may play several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The party holding labels; usually the job's initiator.
    Guest,
    /// A party holding features only.
    Host,
    /// The third party that holds keys and aggregates.
    Arbiter,
    /// The single party of a local job (upload, download).
    Local,
}

impl Role {
    /// FATE's spelling of the role.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Host => "host",
            Role::Arbiter => "arbiter",
            Role::Local => "local",
        }
    }

    /// All roles, in FATE's usual order.
    pub const ALL: [Role; 4] = [Role::Guest, Role::Host, Role::Arbiter, Role::Local];
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown role name.
#[derive(Debug, thiserror::Error)]
#[error("unknown role '{0}': expected guest, host, arbiter or local")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "guest" => Ok(Role::Guest),
            "host" => Ok(Role::Host),
            "arbiter" => Ok(Role::Arbiter),
            "local" => Ok(Role::Local),
            other => Err(UnknownRole(other.to_string())),
        }
    }
}

/// A party in a given role: messages are addressed by both, never by id alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Party {
    /// The role it plays.
    pub role: Role,
    /// Its party id.
    pub party_id: PartyId,
}

impl Party {
    /// A party in a role.
    pub fn new(role: Role, party_id: PartyId) -> Self {
        Self { role, party_id }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.role, self.party_id)
    }
}
