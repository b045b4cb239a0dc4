//! Secure aggregation over the federation: the helper every horizontal
//! component uses to have the arbiter combine the parties' vectors (model
//! weights, histograms, counts) without seeing any one party's.
//!
//! Clients are the guest and the hosts (every party holding rows), ranked
//! guest first, then hosts in the roster's order. The protocol:
//! 1. [`Client::connect`]: each client sends its DH public key to the
//!    arbiter (`secagg_pubkey`), the arbiter sends the list back to all
//!    (`secagg_pubkeys`), each client derives its pairwise seeds
//!    ([`fedflow_crypto::secagg`]).
//! 2. per round, each client sends `mask(w·v ‖ w)` (`secagg_masked`): its
//!    vector scaled by its weight, the weight appended, masked; the arbiter
//!    adds them ([`Server::sum`]): the masks cancel, the arbiter learns
//!    `Σ w·v` and `Σ w` only.
//! 3. [`Server::aggregate`] divides by the total weight and sends the mean
//!    back (`secagg_result`); [`Client::aggregate`] does 2 and waits for it.
//!
//! With `secure = false` (FATE's `secure_aggregate: false`) the vectors go
//! in clear; the round structure is the same.
//!
//! A client that does not send within the federation's timeout fails the
//! round with an error naming it; every party's task then ends.

use crate::{ComponentError, TaskContext};
use fedflow_core::{Party, Role};
use fedflow_crypto::secagg::{self, SecAggClient};
use fedflow_federation::{Federation, Roster, TransferVariable};

/// A client's DH public key, client → arbiter.
pub const SECAGG_PUBKEY: TransferVariable = TransferVariable::new(
    "secagg_pubkey",
    &[Role::Guest, Role::Host],
    &[Role::Arbiter],
);
/// Every client's public key by rank, arbiter → clients.
pub const SECAGG_PUBKEYS: TransferVariable = TransferVariable::new(
    "secagg_pubkeys",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);
/// A client's masked (or, not secure, plain) vector of one round.
pub const SECAGG_MASKED: TransferVariable = TransferVariable::new(
    "secagg_masked",
    &[Role::Guest, Role::Host],
    &[Role::Arbiter],
);
/// The aggregate of one round, arbiter → clients.
pub const SECAGG_RESULT: TransferVariable = TransferVariable::new(
    "secagg_result",
    &[Role::Arbiter],
    &[Role::Guest, Role::Host],
);

/// What a client sends in a round.
#[derive(serde::Serialize, serde::Deserialize)]
enum Upload {
    Masked(Vec<u128>),
    Plain(Vec<f64>),
}

/// The clients of a horizontal job: guests, then hosts, in roster order.
pub fn clients(roster: &Roster) -> Vec<Party> {
    let mut v = roster.parties(Role::Guest);
    v.extend(roster.parties(Role::Host));
    v
}

/// The job's arbiter, or an error naming `component`.
pub fn arbiter(roster: &Roster, component: &str) -> Result<Party, ComponentError> {
    roster.party(Role::Arbiter, 0).ok_or_else(|| {
        ComponentError::Input(format!(
            "{component}: a horizontal job needs an arbiter in the conf's role section (role.arbiter)"
        ))
    })
}

fn crypto(e: fedflow_crypto::CryptoError) -> ComponentError {
    ComponentError::Failed(e.to_string())
}

/// A party holding rows (guest or host).
pub struct Client<'a> {
    fed: &'a dyn Federation,
    arbiter: Party,
    inner: Option<SecAggClient>,
    prefix: String,
}

impl<'a> Client<'a> {
    /// Joins the aggregation of this task's component (`prefix` separates
    /// several aggregators in one component, e.g. per class). Runs the key
    /// exchange when `secure`.
    pub fn connect(
        ctx: &'a TaskContext,
        prefix: &str,
        secure: bool,
    ) -> Result<Self, ComponentError> {
        let fed = ctx.federation.as_ref();
        let arbiter = arbiter(&ctx.roster, &ctx.component_name)?;
        let all = clients(&ctx.roster);
        let rank = all.iter().position(|p| *p == ctx.local).ok_or_else(|| {
            ComponentError::Input(format!("{} is not a client of the aggregation", ctx.local))
        })?;
        let inner = if secure {
            let session = format!("{}.{}.{prefix}", ctx.job_id, ctx.component_name);
            let mut c = SecAggClient::new(rank, &session);
            SECAGG_PUBKEY.remote(fed, &c.public_key(), &[arbiter], prefix)?;
            let keys: Vec<[u8; 32]> = SECAGG_PUBKEYS.get_one(fed, arbiter, prefix)?;
            if keys.len() != all.len() {
                return Err(ComponentError::Failed(format!(
                    "secure aggregation: the arbiter sent {} keys for {} clients",
                    keys.len(),
                    all.len()
                )));
            }
            c.agree(&keys).map_err(crypto)?;
            Some(c)
        } else {
            None
        };
        Ok(Client {
            fed,
            arbiter,
            inner,
            prefix: prefix.to_string(),
        })
    }

    fn tag(&self, round: u64) -> String {
        format!("{}.{round}", self.prefix)
    }

    /// Sends `weight · values` (and `weight`) for `round`, masked.
    pub fn send(&self, round: u64, values: &[f64], weight: f64) -> Result<(), ComponentError> {
        let mut v: Vec<f64> = values.iter().map(|x| x * weight).collect();
        v.push(weight);
        let up = match &self.inner {
            Some(c) => Upload::Masked(c.mask(round, &v).map_err(crypto)?),
            None => Upload::Plain(v),
        };
        SECAGG_MASKED.remote(self.fed, &up, &[self.arbiter], &self.tag(round))?;
        Ok(())
    }

    /// Receives what the arbiter sends back for `round`.
    pub fn receive(&self, round: u64) -> Result<Vec<f64>, ComponentError> {
        Ok(SECAGG_RESULT.get_one(self.fed, self.arbiter, &self.tag(round))?)
    }

    /// [`Self::send`] then [`Self::receive`]: the weighted mean of every
    /// client's `values`.
    pub fn aggregate(
        &self,
        round: u64,
        values: &[f64],
        weight: f64,
    ) -> Result<Vec<f64>, ComponentError> {
        self.send(round, values, weight)?;
        self.receive(round)
    }

    /// The sum of every client's `values` for `round` (counts, ranks:
    /// the arbiter answers with [`Server::sum_back`]).
    pub fn aggregate_sum(&self, round: u64, values: &[f64]) -> Result<Vec<f64>, ComponentError> {
        self.send(round, values, 1.0)?;
        self.receive(round)
    }
}

/// The arbiter's side.
pub struct Server<'a> {
    fed: &'a dyn Federation,
    clients: Vec<Party>,
    secure: bool,
    prefix: String,
}

impl<'a> Server<'a> {
    /// Runs the arbiter's part of the key exchange when `secure`.
    pub fn connect(
        ctx: &'a TaskContext,
        prefix: &str,
        secure: bool,
    ) -> Result<Self, ComponentError> {
        let fed = ctx.federation.as_ref();
        let clients = clients(&ctx.roster);
        if clients.is_empty() {
            return Err(ComponentError::Input(format!(
                "{}: no guest or host to aggregate",
                ctx.component_name
            )));
        }
        if secure {
            let keys: Vec<[u8; 32]> = SECAGG_PUBKEY.get(fed, &clients, prefix)?;
            SECAGG_PUBKEYS.remote(fed, &keys, &clients, prefix)?;
        }
        Ok(Server {
            fed,
            clients,
            secure,
            prefix: prefix.to_string(),
        })
    }

    fn tag(&self, round: u64) -> String {
        format!("{}.{round}", self.prefix)
    }

    /// The number of clients.
    pub fn n_clients(&self) -> usize {
        self.clients.len()
    }

    /// `(Σ w·v, Σ w)` over the clients for `round`.
    pub fn sum(&self, round: u64) -> Result<(Vec<f64>, f64), ComponentError> {
        let ups: Vec<Upload> = SECAGG_MASKED.get(self.fed, &self.clients, &self.tag(round))?;
        let mut masked = Vec::with_capacity(ups.len());
        let mut plain: Option<Vec<f64>> = None;
        for (p, up) in self.clients.iter().zip(ups) {
            match (up, self.secure) {
                (Upload::Masked(m), true) => masked.push(m),
                (Upload::Plain(v), false) => match &mut plain {
                    None => plain = Some(v),
                    Some(acc) if acc.len() == v.len() => {
                        acc.iter_mut().zip(&v).for_each(|(a, x)| *a += x)
                    }
                    Some(acc) => {
                        return Err(ComponentError::Failed(format!(
                            "aggregation: {p} sent {} values, the first client {}",
                            v.len(),
                            acc.len()
                        )))
                    }
                },
                _ => {
                    return Err(ComponentError::Failed(format!(
                        "aggregation: {p} does not use the job's secure_aggregate setting"
                    )))
                }
            }
        }
        let mut total = match plain {
            Some(v) => v,
            None => secagg::sum_masked(&masked)
                .map_err(crypto)?
                .into_iter()
                .map(secagg::decode)
                .collect(),
        };
        let weight = total.pop().unwrap_or(0.0);
        Ok((total, weight))
    }

    /// Sends `values` to every client for `round`.
    pub fn broadcast(&self, round: u64, values: &[f64]) -> Result<(), ComponentError> {
        SECAGG_RESULT.remote(self.fed, &values.to_vec(), &self.clients, &self.tag(round))?;
        Ok(())
    }

    /// Sends the clients the plain sum `Σ v` of `round` (what
    /// [`Client::aggregate_sum`] waits for) and returns it.
    pub fn sum_back(&self, round: u64) -> Result<Vec<f64>, ComponentError> {
        let (sum, _) = self.sum(round)?;
        self.broadcast(round, &sum)?;
        Ok(sum)
    }

    /// The weighted mean `Σ w·v / Σ w` of `round`, sent back to the clients
    /// and returned with the total weight.
    pub fn aggregate(&self, round: u64) -> Result<(Vec<f64>, f64), ComponentError> {
        let (sum, weight) = self.sum(round)?;
        if weight <= 0.0 {
            return Err(ComponentError::Failed(format!(
                "aggregation round {round}: total weight {weight} (every client has zero rows?)"
            )));
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / weight).collect();
        self.broadcast(round, &mean)?;
        Ok((mean, weight))
    }
}
