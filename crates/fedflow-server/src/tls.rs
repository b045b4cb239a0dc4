//! The control plane between party servers over HTTPS with mutual TLS, with
//! the same trust as the gRPC federation: one CA (`fedflow cert`) signs every
//! party's certificate. A server with a `[tls]` section serves its API a
//! second time on `tls.listen`, where clients must present a certificate
//! signed by the CA (others are refused during the handshake), and refuses
//! the party-to-party routes (`/v1/party/…`) on its plain listener. Routes to
//! other servers written `https://…` are called with this party's certificate,
//! and the peer's certificate must be the one of `party-{its id}`.
//!
//! ```toml
//! [tls]
//! listen = "127.0.0.1:9443"
//! ca = "certs/ca.crt"
//! cert = "certs/party-{party_id}.crt"      # {party_id}: this server's first party id
//! key = "certs/party-{party_id}.key"
//! ```

use crate::ServerError;
use serde::Deserialize;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// The `[tls]` section of the server config.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ControlTls {
    /// The HTTPS (mTLS) listener other parties' servers call.
    pub listen: Option<String>,
    /// The CA certificate that signs every party's certificate (PEM).
    pub ca: PathBuf,
    /// This party's certificate (PEM); `{party_id}` is replaced.
    pub cert: PathBuf,
    /// This party's key (PEM); `{party_id}` is replaced.
    pub key: PathBuf,
}

fn cfg_err(path: &Path, e: impl std::fmt::Display) -> ServerError {
    ServerError::Config(format!("tls: {}: {e}", path.display()))
}

fn resolve(p: &Path, party_id: u64) -> PathBuf {
    PathBuf::from(
        p.to_string_lossy()
            .replace("{party_id}", &party_id.to_string()),
    )
}

fn certs(p: &Path) -> Result<Vec<CertificateDer<'static>>, ServerError> {
    let bytes = std::fs::read(p).map_err(|e| cfg_err(p, e))?;
    let v = rustls_pemfile::certs(&mut &bytes[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cfg_err(p, e))?;
    if v.is_empty() {
        return Err(cfg_err(p, "no PEM certificate in the file"));
    }
    Ok(v)
}

fn key(p: &Path) -> Result<PrivateKeyDer<'static>, ServerError> {
    let bytes = std::fs::read(p).map_err(|e| cfg_err(p, e))?;
    rustls_pemfile::private_key(&mut &bytes[..])
        .map_err(|e| cfg_err(p, e))?
        .ok_or_else(|| cfg_err(p, "no PEM private key in the file"))
}

fn roots(ca: &Path) -> Result<Arc<rustls::RootCertStore>, ServerError> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs(ca)? {
        roots.add(c).map_err(|e| cfg_err(ca, e))?;
    }
    Ok(Arc::new(roots))
}

impl ControlTls {
    /// The server side: this party's certificate, client certificates
    /// required and checked against the CA.
    pub fn server_config(&self, party_id: u64) -> Result<Arc<rustls::ServerConfig>, ServerError> {
        let ca = resolve(&self.ca, party_id);
        let verifier = rustls::server::WebPkiClientVerifier::builder(roots(&ca)?)
            .build()
            .map_err(|e| cfg_err(&ca, e))?;
        let cert = resolve(&self.cert, party_id);
        let cfg = rustls::ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs(&cert)?, key(&resolve(&self.key, party_id))?)
            .map_err(|e| cfg_err(&cert, e))?;
        Ok(Arc::new(cfg))
    }

    /// The client side: presents this party's certificate and accepts only
    /// the certificate of `party-{peer_id}` signed by the CA.
    pub fn connector(&self, party_id: u64, peer_id: u64) -> Result<Arc<Connector>, ServerError> {
        let ca = resolve(&self.ca, party_id);
        let cert = resolve(&self.cert, party_id);
        let cfg = rustls::ClientConfig::builder()
            .with_root_certificates(roots(&ca)?)
            .with_client_auth_cert(certs(&cert)?, key(&resolve(&self.key, party_id))?)
            .map_err(|e| cfg_err(&cert, e))?;
        let name = ServerName::try_from(format!("party-{peer_id}"))
            .map_err(|e| ServerError::Config(format!("tls: party-{peer_id}: {e}")))?;
        Ok(Arc::new(Connector {
            cfg: Arc::new(cfg),
            name,
        }))
    }
}

/// A ureq TLS connector presenting this party's certificate.
pub struct Connector {
    cfg: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

struct TlsStream(rustls::StreamOwned<rustls::ClientConnection, Box<dyn ureq::ReadWrite>>);

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsStream")
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl ureq::ReadWrite for TlsStream {
    fn socket(&self) -> Option<&std::net::TcpStream> {
        self.0.get_ref().socket()
    }
}

impl ureq::TlsConnector for Connector {
    fn connect(
        &self,
        _dns_name: &str,
        mut io: Box<dyn ureq::ReadWrite>,
    ) -> Result<Box<dyn ureq::ReadWrite>, ureq::Error> {
        let tls_err = |e: String| {
            ureq::Error::from(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                format!("TLS with {:?}: {e}", self.name),
            ))
        };
        let mut conn = rustls::ClientConnection::new(self.cfg.clone(), self.name.clone())
            .map_err(|e| tls_err(e.to_string()))?;
        // Handshake now, so that a refused certificate is reported as such.
        while conn.is_handshaking() {
            conn.complete_io(&mut io)
                .map_err(|e| tls_err(e.to_string()))?;
        }
        Ok(Box::new(TlsStream(rustls::StreamOwned::new(conn, io))))
    }
}

/// An HTTPS listener for `axum::serve`: handshakes run in their own tasks
/// (a slow or refused client does not hold up the others); refused clients
/// are logged.
pub struct TlsListener {
    rx: tokio::sync::mpsc::Receiver<(
        tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        SocketAddr,
    )>,
    addr: SocketAddr,
}

impl TlsListener {
    /// Binds `listen` and starts accepting.
    pub async fn bind(listen: &str, cfg: Arc<rustls::ServerConfig>) -> Result<Self, ServerError> {
        let l = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| ServerError::Config(format!("tls.listen {listen}: {e}")))?;
        let addr = l
            .local_addr()
            .map_err(|e| ServerError::Config(e.to_string()))?;
        let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match l.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!("tls accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                    {
                        Ok(Ok(s)) => {
                            let _ = tx.send((s, peer)).await;
                        }
                        Ok(Err(e)) => tracing::warn!("control plane: refused {peer}: {e}"),
                        Err(_) => tracing::warn!("control plane: {peer}: TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { rx, addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The accept loop never ends while the runtime runs.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
