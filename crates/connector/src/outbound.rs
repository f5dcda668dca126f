//! Where a connector may send requests: a district's settings name the server, so a
//! caller who may configure a district could aim the service at its own network — a
//! cloud metadata address, a database on a private range, a port on the loopback.
//! [`Targets`] says which addresses a connector may reach; every name is resolved and
//! every address checked before a connection is made (a name resolving to a refused
//! address is refused too), so a public name cannot smuggle a private address in.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// How a refusal reads; the HTTP client recognises its resolver's refusals by it.
pub const REFUSAL: &str = "which connectors may not reach";

/// The addresses connectors may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Targets {
    /// Public addresses only (a service facing real districts).
    Public,
    /// Public and private ranges (a SIS on the district's own network); never
    /// loopback, link-local or metadata addresses.
    Private,
    /// Anything, loopback included (the demo and tests, whose sources run on loopback).
    #[default]
    Any,
}

impl Targets {
    pub fn parse(s: &str) -> Option<Targets> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" => Some(Targets::Public),
            "private" => Some(Targets::Private),
            "any" => Some(Targets::Any),
            _ => None,
        }
    }

    /// Why `ip` may not be reached, or `None` when it may.
    pub fn refuses(self, ip: IpAddr) -> Option<&'static str> {
        if self == Targets::Any {
            return None;
        }
        let class = classify(ip);
        match (self, class) {
            (_, Class::Public) => None,
            (Targets::Private, Class::Private) => None,
            (_, Class::Private) => Some("a private address"),
            (_, Class::Loopback) => Some("a loopback address"),
            (_, Class::LinkLocal) => Some("a link-local or cloud metadata address"),
            (_, Class::Special) => Some("a reserved address"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Public,
    Private,
    Loopback,
    LinkLocal,
    Special,
}

fn classify(ip: IpAddr) -> Class {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> Class {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_link_local() {
        Class::LinkLocal
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // RFC 1918, and RFC 6598 shared (carrier-grade NAT) space.
        Class::Private
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0)
        || (a == 198 && (18..20).contains(&b))
    {
        Class::Special
    } else {
        Class::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> Class {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Class::Loopback
    } else if first & 0xffc0 == 0xfe80 {
        Class::LinkLocal
    } else if first & 0xfe00 == 0xfc00 {
        Class::Private
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || first == 0x2001 && ip.segments()[1] == 0x0db8
    {
        Class::Special
    } else {
        Class::Public
    }
}

/// A resolver for the HTTP client that drops the addresses `targets` refuses and fails
/// a name left with none.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub targets: Targets,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let targets = self.targets;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| targets.refuses(a.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                let why = found
                    .first()
                    .and_then(|a| targets.refuses(a.ip()))
                    .unwrap_or("no address");
                return Err(format!("{host} resolves to {why}, {REFUSAL}").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The resolver as the client builder takes it.
pub fn resolver(targets: Targets) -> Arc<GuardedResolver> {
    Arc::new(GuardedResolver { targets })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn public_only_refuses_metadata_private_and_loopback() {
        let p = Targets::Public;
        assert_eq!(p.refuses(ip("93.184.216.34")), None);
        assert_eq!(p.refuses(ip("2606:4700::1111")), None);
        for bad in [
            "169.254.169.254",
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:169.254.169.254",
        ] {
            assert!(p.refuses(ip(bad)).is_some(), "{bad}");
        }
        assert_eq!(
            p.refuses(ip("169.254.169.254")),
            Some("a link-local or cloud metadata address")
        );
    }

    #[test]
    fn private_allows_rfc1918_but_never_metadata_or_loopback() {
        let p = Targets::Private;
        assert_eq!(p.refuses(ip("10.1.2.3")), None);
        assert!(p.refuses(ip("169.254.169.254")).is_some());
        assert!(p.refuses(ip("127.0.0.1")).is_some());
        assert_eq!(Targets::Any.refuses(ip("127.0.0.1")), None);
    }
}
