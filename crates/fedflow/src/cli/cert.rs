//! `fedflow cert …`: a small CA and party certificates for the gRPC
//! federation's mTLS (tests and first deployments).

use anyhow::{anyhow, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum CertCommand {
    /// Make a CA: OUT/ca.crt and OUT/ca.key.
    Ca {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Make a party's certificate signed by the CA: OUT/party-ID.crt and
    /// OUT/party-ID.key (for `party-ID`, localhost and 127.0.0.1, server and
    /// client use), and copy ca.crt into OUT.
    Party {
        /// The CA's directory (made by `fedflow cert ca`).
        #[arg(long)]
        ca: PathBuf,
        /// The party id.
        #[arg(long)]
        party_id: u64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Extra DNS names for the certificate (repeatable).
        #[arg(long = "san")]
        san: Vec<String>,
    },
}

pub fn run(cmd: CertCommand) -> Result<()> {
    match cmd {
        CertCommand::Ca { out } => {
            let (c, k) = fedflow_federation::certs::make_ca(&out).map_err(|e| anyhow!(e))?;
            println!(
                "CA certificate: {}\nCA key:         {}",
                c.display(),
                k.display()
            );
        }
        CertCommand::Party {
            ca,
            party_id,
            out,
            san,
        } => {
            let (c, k) = fedflow_federation::certs::make_party(&ca, party_id, &san, &out)
                .map_err(|e| anyhow!(e))?;
            println!(
                "party {party_id} certificate: {}\nparty {party_id} key:         {}",
                c.display(),
                k.display()
            );
        }
    }
    Ok(())
}
