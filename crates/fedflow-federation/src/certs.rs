//! A small CA and party certificates for the gRPC engine's mTLS (what
//! `fedflow cert` makes): `ca.crt`/`ca.key`, and per party
//! `party-{id}.crt`/`party-{id}.key` valid for `party-{id}`, `localhost`,
//! `127.0.0.1` and any extra names, for both server and client use.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use std::path::{Path, PathBuf};

/// The CA's common name (a party certificate is signed by rebuilding the CA
/// certificate from its key and this name).
pub const CA_NAME: &str = "fedflow federation CA";

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn ca_params() -> Result<CertificateParams, String> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    dn.push(DnType::OrganizationName, "fedflow");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2124, 1, 1);
    Ok(p)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Makes `out/ca.crt` and `out/ca.key`; returns their paths.
pub fn make_ca(out: &Path) -> Result<(PathBuf, PathBuf), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let key = KeyPair::generate().map_err(err)?;
    let cert = ca_params()?.self_signed(&key).map_err(err)?;
    let (c, k) = (out.join("ca.crt"), out.join("ca.key"));
    write(&c, &cert.pem())?;
    write(&k, &key.serialize_pem())?;
    Ok((c, k))
}

/// Makes `out/party-{id}.crt` and `.key` signed by the CA in `ca_dir`, and
/// copies `ca.crt` to `out` when it is another directory; returns the paths.
pub fn make_party(
    ca_dir: &Path,
    party_id: u64,
    extra_names: &[String],
    out: &Path,
) -> Result<(PathBuf, PathBuf), String> {
    let ca_key_pem = std::fs::read_to_string(ca_dir.join("ca.key"))
        .map_err(|e| format!("{}: {e}", ca_dir.join("ca.key").display()))?;
    let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(err)?;
    let ca_cert = ca_params()?.self_signed(&ca_key).map_err(err)?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut names = vec![format!("party-{party_id}"), "localhost".to_string()];
    names.extend(extra_names.iter().cloned());
    let mut p = CertificateParams::new(names).map_err(err)?;
    p.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("party-{party_id}"));
    dn.push(DnType::OrganizationName, "fedflow");
    p.distinguished_name = dn;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2124, 1, 1);
    let key = KeyPair::generate().map_err(err)?;
    let cert = p.signed_by(&key, &ca_cert, &ca_key).map_err(err)?;
    let (c, k) = (
        out.join(format!("party-{party_id}.crt")),
        out.join(format!("party-{party_id}.key")),
    );
    write(&c, &cert.pem())?;
    write(&k, &key.serialize_pem())?;
    if std::fs::canonicalize(ca_dir).ok() != std::fs::canonicalize(out).ok() {
        std::fs::copy(ca_dir.join("ca.crt"), out.join("ca.crt"))
            .map_err(|e| format!("copying ca.crt: {e}"))?;
    }
    Ok((c, k))
}
