//! Fetching user-supplied URLs without opening an SSRF hole: every hop (the first URL and each
//! redirect) is resolved and refused when it points at loopback, private, link-local (cloud
//! metadata), shared or otherwise internal addresses, unless its host is allow-listed. The
//! connection is pinned to the address that was checked, so a second DNS answer cannot swap it.

use crate::error_code::ErrorCode;
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    path::Path,
    time::Duration,
};

use futures::StreamExt;
use reqwest::{redirect, Url};
use tokio::io::AsyncWriteExt;

use super::{http, ProviderError};

const MAX_REDIRECTS: usize = 5;

/// Hosts (as written in URLs, optionally with `:port`) that may be fetched even though they
/// resolve to internal addresses.
#[derive(Debug, Clone, Default)]
pub struct UrlGuard {
    allowed_hosts: Vec<String>,
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..=127).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || a >= 240
}

/// The IPv4 address an IPv6 address carries, in the forms that route to it: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4
/// (`2002:AABB:CCDD::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if (s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified())
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        Some(tail)
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ))
    } else {
        None
    }
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_internal_v4(v4);
    }
    let [first, second, ..] = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link local
        || (first & 0xffc0) == 0xfec0 // site local (deprecated, still routed by some)
        || (first == 0x64 && second == 0xff9b) // local-use NAT64 (64:ff9b:1::/48)
        || (first == 0x2001 && second == 0x0db8) // documentation
}

pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

impl UrlGuard {
    pub fn new(allowed_hosts: &[String]) -> Self {
        UrlGuard {
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| h.trim().to_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    fn allowed(&self, url: &Url) -> bool {
        let Some(host) = url.host_str().map(str::to_lowercase) else {
            return false;
        };
        let with_port = url.port_or_known_default().map(|p| format!("{host}:{p}"));
        self.allowed_hosts
            .iter()
            .any(|a| *a == host || Some(a) == with_port.as_ref())
    }

    /// Resolves `url` and answers the address to connect to, or why it may not be fetched.
    pub async fn check(&self, url: &Url) -> Result<SocketAddr, ProviderError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ProviderError::fatal(
                ErrorCode::UrlRefused,
                format!("only http(s) URLs are fetched, not {}", url.scheme()),
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| ProviderError::fatal(ErrorCode::UrlRefused, "the URL has no host"))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|error| {
                ProviderError::retryable(format!("could not resolve {host}: {error}"))
            })?
            .collect();
        let first = *addresses
            .first()
            .ok_or_else(|| ProviderError::retryable(format!("{host} resolved to no address")))?;
        if !self.allowed(url) {
            if let Some(internal) = addresses.iter().find(|a| is_internal(a.ip())) {
                return Err(ProviderError::fatal(
                    ErrorCode::UrlRefused,
                    format!(
                        "{host} resolves to an internal address ({}); refusing to fetch it",
                        internal.ip()
                    ),
                ));
            }
        }
        Ok(first)
    }
}

/// A client for one request to `url`, which the guard has vetted: it connects only to the address
/// checked (so a second DNS answer cannot point it elsewhere) and follows no redirects.
pub async fn pinned_client(
    guard: &UrlGuard,
    url: &Url,
    timeout: Option<Duration>,
) -> Result<reqwest::Client, ProviderError> {
    let address = guard.check(url).await?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let mut builder = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .resolve(&host, address)
        .connect_timeout(Duration::from_secs(10));
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder
        .build()
        .map_err(|error| ProviderError::fatal(ErrorCode::HttpClient, error.to_string()))
}

/// What a download produced.
#[derive(Debug, Clone)]
pub struct Downloaded {
    pub bytes: u64,
    pub content_type: Option<String>,
}

pub struct Limits {
    pub max_bytes: u64,
    pub timeout: Duration,
}

/// Streams `url` into `destination` (never whole in memory), following checked redirects.
/// `accept` vets the Content-Type before the body is read.
pub async fn download(
    guard: &UrlGuard,
    url: &str,
    destination: &Path,
    limits: &Limits,
    accept: impl Fn(Option<&str>) -> Result<(), ProviderError>,
) -> Result<Downloaded, ProviderError> {
    let mut url = Url::parse(url).map_err(|error| {
        ProviderError::fatal(ErrorCode::UrlRefused, format!("not a URL: {error}"))
    })?;
    let deadline = tokio::time::Instant::now() + limits.timeout;
    for _ in 0..=MAX_REDIRECTS {
        let client = pinned_client(guard, &url, None).await?;
        let response = tokio::time::timeout_at(deadline, client.get(url.clone()).send())
            .await
            .map_err(|_| ProviderError::retryable("the download timed out"))?
            .map_err(|error| http::transport_error("media host", error))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    ProviderError::fatal(
                        ErrorCode::MediaUnavailable,
                        format!("a {status} redirect without Location"),
                    )
                })?;
            url = url.join(location).map_err(|error| {
                ProviderError::fatal(
                    ErrorCode::UrlRefused,
                    format!("bad redirect target: {error}"),
                )
            })?;
            continue;
        }
        if matches!(status.as_u16(), 403 | 404 | 410) {
            return Err(ProviderError::fatal(
                ErrorCode::MediaUrlExpired,
                format!("the video URL answered {status}; such URLs expire within hours: collect the reel again for a fresh one"),
            ));
        }
        if !status.is_success() {
            return Err(http::HttpFailure::read("media host", response)
                .await
                .into_error());
        }
        if response
            .content_length()
            .is_some_and(|length| length > limits.max_bytes)
        {
            return Err(too_large(limits.max_bytes));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_lowercase());
        accept(content_type.as_deref())?;
        return tokio::time::timeout_at(
            deadline,
            stream_to_file(response, destination, limits.max_bytes),
        )
        .await
        .map_err(|_| ProviderError::retryable("the download timed out"))?
        .map(|bytes| Downloaded {
            bytes,
            content_type,
        });
    }
    Err(ProviderError::fatal(
        ErrorCode::MediaUnavailable,
        format!("more than {MAX_REDIRECTS} redirects"),
    ))
}

fn too_large(max_bytes: u64) -> ProviderError {
    ProviderError::fatal(
        ErrorCode::MediaTooLarge,
        format!("the file is larger than the {max_bytes} bytes allowed"),
    )
}

async fn stream_to_file(
    response: reqwest::Response,
    destination: &Path,
    max_bytes: u64,
) -> Result<u64, ProviderError> {
    let io = |error: std::io::Error| {
        if crate::media::is_storage_full(&error) {
            crate::storage_full()
        } else {
            ProviderError::retryable(format!("writing the download failed: {error}"))
        }
    };
    let mut file = tokio::fs::File::create(destination).await.map_err(io)?;
    let mut written: u64 = 0;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| http::transport_error("media host", error))?;
        written += chunk.len() as u64;
        if written > max_bytes {
            drop(file);
            let _ = tokio::fs::remove_file(destination).await;
            return Err(too_large(max_bytes));
        }
        if let Err(error) = file.write_all(&chunk).await {
            drop(file);
            let _ = tokio::fs::remove_file(destination).await;
            return Err(io(error));
        }
    }
    file.flush().await.map_err(io)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "224.0.0.1",
            // IPv6 forms that carry an internal IPv4 address.
            "::127.0.0.1",
            "::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "64:ff9b:1::1",
            "fec0::1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "93.184.216.34",
            "157.240.1.35",
            "2a03:2880:f10c:83:face:b00c:0:25de",
            "8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn the_guard_refuses_internal_hosts_unless_allowed() {
        let strict = UrlGuard::new(&[]);
        for url in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let error = strict.check(&Url::parse(url).unwrap()).await.unwrap_err();
            assert!(
                matches!(
                    error,
                    ProviderError::Fatal {
                        code: ErrorCode::UrlRefused,
                        ..
                    }
                ),
                "{url}: {error:?}"
            );
        }
        let error = strict
            .check(&Url::parse("file:///etc/passwd").unwrap())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("only http(s)"));
        let allowing = UrlGuard::new(&["127.0.0.1".into()]);
        assert!(allowing
            .check(&Url::parse("http://127.0.0.1:9/x").unwrap())
            .await
            .is_ok());
        assert!(
            allowing
                .check(&Url::parse("http://localhost:9/x").unwrap())
                .await
                .is_err(),
            "only the named host"
        );
    }
}
