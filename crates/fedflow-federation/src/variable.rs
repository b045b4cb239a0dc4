//! Transfer variables: what a component declares it sends, from which roles to which.

use crate::{Federation, FederationError, Result};
use fedflow_computing::{Session, TypedTable};
use fedflow_core::codec::{decode, encode, Data};
use fedflow_core::{Party, Role};

/// A variable of a component's protocol with its allowed source and
/// destination roles, e.g. the toy's
/// `TransferVariable::new("guest_share", &[Role::Guest], &[Role::Host])`.
/// The tag distinguishes iterations (`"iter.3"`); an empty tag is allowed.
#[derive(Debug, Clone, Copy)]
pub struct TransferVariable {
    /// Wire name.
    pub name: &'static str,
    /// Roles that may send it.
    pub src: &'static [Role],
    /// Roles that may receive it.
    pub dst: &'static [Role],
}

impl TransferVariable {
    /// Declares a variable.
    pub const fn new(name: &'static str, src: &'static [Role], dst: &'static [Role]) -> Self {
        TransferVariable { name, src, dst }
    }

    fn check(&self, fed: &dyn Federation, sending: bool, peers: &[Party]) -> Result<()> {
        let me = fed.local().role;
        let (mine, theirs, verb) = if sending {
            (self.src, self.dst, "send")
        } else {
            (self.dst, self.src, "receive")
        };
        if !mine.contains(&me) {
            return Err(FederationError::Usage(format!(
                "role {me} may not {verb} variable '{}' (declared {:?} -> {:?})",
                self.name, self.src, self.dst
            )));
        }
        if let Some(p) = peers.iter().find(|p| !theirs.contains(&p.role)) {
            return Err(FederationError::Usage(format!(
                "variable '{}' cannot go {} {p} (declared {:?} -> {:?})",
                self.name,
                if sending { "to" } else { "from" },
                self.src,
                self.dst
            )));
        }
        Ok(())
    }

    /// Sends a value to `parties`.
    pub fn remote<T: Data>(
        &self,
        fed: &dyn Federation,
        value: &T,
        parties: &[Party],
        tag: &str,
    ) -> Result<()> {
        self.check(fed, true, parties)?;
        fed.remote_bytes(self.name, tag, &encode(value)?, parties)
    }

    /// Receives a value from each of `parties`, in order.
    pub fn get<T: Data>(
        &self,
        fed: &dyn Federation,
        parties: &[Party],
        tag: &str,
    ) -> Result<Vec<T>> {
        self.check(fed, false, parties)?;
        fed.get_bytes(self.name, tag, parties)?
            .iter()
            .map(|b| Ok(decode(b)?))
            .collect()
    }

    /// Receives a value from one party.
    pub fn get_one<T: Data>(&self, fed: &dyn Federation, party: Party, tag: &str) -> Result<T> {
        let mut v = self.get(fed, &[party], tag)?;
        v.pop()
            .ok_or_else(|| FederationError::Usage(format!("no value for '{}'", self.name)))
    }

    /// Sends a table to `parties`.
    pub fn remote_table<K: Data, V: Data>(
        &self,
        fed: &dyn Federation,
        table: &TypedTable<K, V>,
        parties: &[Party],
        tag: &str,
    ) -> Result<()> {
        self.check(fed, true, parties)?;
        fed.remote_table(self.name, tag, table.raw().as_ref(), parties)
    }

    /// Receives a table from each of `parties`, in order.
    pub fn get_tables<K: Data, V: Data>(
        &self,
        fed: &dyn Federation,
        parties: &[Party],
        tag: &str,
        session: &dyn Session,
    ) -> Result<Vec<TypedTable<K, V>>> {
        self.check(fed, false, parties)?;
        Ok(fed
            .get_tables(self.name, tag, parties, session)?
            .into_iter()
            .map(TypedTable::from_raw)
            .collect())
    }

    /// Receives a table from one party.
    pub fn get_table<K: Data, V: Data>(
        &self,
        fed: &dyn Federation,
        party: Party,
        tag: &str,
        session: &dyn Session,
    ) -> Result<TypedTable<K, V>> {
        let mut v = self.get_tables(fed, &[party], tag, session)?;
        v.pop()
            .ok_or_else(|| FederationError::Usage(format!("no table for '{}'", self.name)))
    }
}
