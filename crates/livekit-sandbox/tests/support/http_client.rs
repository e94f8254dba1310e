//! Raw HTTP to the sandbox, for what the SDK never sends (other content types, bad tokens,
//! the admin and metrics endpoints).

use std::sync::Arc;

/// Loopback is plain HTTP, but reqwest still wants a TLS configuration, and with both of
/// rustls's providers in the build there is no default one: ring is named here.
pub fn http_client() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("a plain HTTP client builds")
}
