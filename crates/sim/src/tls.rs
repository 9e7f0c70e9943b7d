//! Serving the emulators over HTTPS: a certificate and key read from PEM
//! files, and a listener that hands axum only connections whose TLS
//! handshake succeeded. One client's failed handshake is logged at debug
//! and the server carries on.

use rustls::crypto::ring;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{InconsistentKeys, ServerConfig};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client that opens a connection and says nothing is dropped after this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PEM files the emulators serve HTTPS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, end-entity certificate first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 RSA or SEC1 EC) of the first certificate.
    pub key: PathBuf,
}

/// Why the emulators could not start with TLS. Each message names the file;
/// the underlying I/O or rustls error, where there is one, is its `source()`.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} is not a PEM file: {reason}", path.display())]
    NotPem { path: PathBuf, reason: String },
    #[error("{} holds no certificate (no \"-----BEGIN CERTIFICATE-----\" block)", path.display())]
    NoCertificate { path: PathBuf },
    #[error(
        "{} holds no private key (expected a \"-----BEGIN PRIVATE KEY-----\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block)",
        path.display()
    )]
    NoPrivateKey { path: PathBuf },
    #[error("the private key in {} does not match the certificate in {}", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("cannot serve the certificate in {} with the key in {}", cert.display(), key.display())]
    Unusable { cert: PathBuf, key: PathBuf, source: rustls::Error },
    #[error("cannot listen on 127.0.0.1:{port}")]
    Listen { port: u16, source: io::Error },
}

impl TlsFiles {
    /// Reads both files and checks that the key belongs to the certificate.
    /// Uses the ring provider, the one reqwest's rustls uses in this workspace.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let certs: Vec<CertificateDer<'static>> = pem_sections(&self.cert)?
            .into_iter()
            .filter(|(kind, _)| *kind == SectionKind::Certificate)
            .map(|(_, der)| CertificateDer::from(der))
            .collect();
        if certs.is_empty() {
            return Err(TlsError::NoCertificate { path: self.cert.clone() });
        }
        let key = pem_sections(&self.key)?
            .into_iter()
            .find_map(|(kind, der)| PrivateKeyDer::from_pem(kind, der))
            .ok_or_else(|| TlsError::NoPrivateKey { path: self.key.clone() })?;
        let unusable = |source| TlsError::Unusable { cert: self.cert.clone(), key: self.key.clone(), source };
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => {
                    TlsError::KeyMismatch { cert: self.cert.clone(), key: self.key.clone() }
                }
                e => unusable(e),
            })?;
        // axum serves HTTP/1.1 here (its `http2` feature is off).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Every PEM block in the file, of any kind.
fn pem_sections(path: &Path) -> Result<Vec<(SectionKind, Vec<u8>)>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })?;
    let not_pem = |reason: String| TlsError::NotPem { path: path.to_owned(), reason };
    let sections = <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_pem(e.to_string()))?;
    // Blocks of kinds rustls does not know are skipped; a file with no
    // "-----BEGIN" line at all is not PEM (DER, or the wrong file).
    if sections.is_empty() && !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(not_pem("no \"-----BEGIN ...-----\" line".into()));
    }
    Ok(sections)
}

/// Accepts TCP connections and completes their TLS handshakes concurrently,
/// so a slow or silent client does not hold up the others.
pub(crate) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl TlsListener {
    pub(crate) fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> Self {
        Self { tcp, acceptor: TlsAcceptor::from(config), handshakes: JoinSet::new() }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    // Cancel-safe, as axum needs: `TcpListener::accept` and
    // `JoinSet::join_next` both are, and a started handshake lives in the set.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        let acceptor = self.acceptor.clone();
                        self.handshakes.spawn(handshake(acceptor, tcp, peer));
                    }
                    Err(e) => accept_error(e).await,
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(conn)) = done {
                        return conn;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

async fn handshake(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
) -> Option<(TlsStream<TcpStream>, SocketAddr)> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => Some((tls, peer)),
        Ok(Err(e)) => {
            tracing::debug!("TLS handshake with {peer} failed: {e}");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake with {peer} timed out");
            None
        }
    }
}

/// As axum does for plain TCP: a connection that died before we took it is
/// nothing; anything else (such as too many open files) waits a moment.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        return;
    }
    tracing::error!("emulator server cannot accept a connection: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
