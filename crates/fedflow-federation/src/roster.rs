//! The parties of a job, by role.

use fedflow_core::{Party, PartyId, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which party ids play which role in a job (FATE's `role` section), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster(pub BTreeMap<Role, Vec<PartyId>>);

impl Roster {
    /// The parties playing `role`, in order.
    pub fn parties(&self, role: Role) -> Vec<Party> {
        self.0
            .get(&role)
            .map(|ids| ids.iter().map(|&id| Party::new(role, id)).collect())
            .unwrap_or_default()
    }

    /// The `idx`-th party of `role`.
    pub fn party(&self, role: Role, idx: usize) -> Option<Party> {
        self.0
            .get(&role)
            .and_then(|ids| ids.get(idx))
            .map(|&id| Party::new(role, id))
    }

    /// Every party of the job.
    pub fn all(&self) -> Vec<Party> {
        self.0
            .iter()
            .flat_map(|(role, ids)| ids.iter().map(move |&id| Party::new(*role, id)))
            .collect()
    }

    /// True when `party` is in the job.
    pub fn contains(&self, party: Party) -> bool {
        self.0
            .get(&party.role)
            .is_some_and(|ids| ids.contains(&party.party_id))
    }
}
