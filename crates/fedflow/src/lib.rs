//! The `fedflow` binary's library half: the command line ([`cli`]). Linking
//! this crate links every component and op, so integration tests see the same
//! op registry as the binary and as `fedflow worker`.

pub mod cli;

/// Makes sure every crate that registers ops is linked.
pub fn link_all() {
    let _ = fedflow_components::MODULES;
}
