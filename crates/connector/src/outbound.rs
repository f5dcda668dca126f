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
        IpAddr::V6(v6) if is_local_nat64(v6) => Class::Private,
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

/// The IPv4 address an IPv6 transition address reaches, which is what it must be
/// classified by: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64's
/// well-known prefix (`64:ff9b::/96`, RFC 6052), 6to4 (`2002:AABB:CCDD::/48`, RFC 3056)
/// and Teredo (`2001:0::/32`, the client's address inverted in the last 32 bits, RFC 4380).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let last = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some(mapped);
    }
    match s {
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, hi, lo] if (u32::from(hi) << 16 | u32::from(lo)) > 1 => Some(last),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(last),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::from(u32::from(hi) << 16 | u32::from(lo))),
        [0x2001, 0, ..] => Some(Ipv4Addr::from(!u32::from(last))),
        _ => None,
    }
}

/// NAT64's local-use prefix (`64:ff9b:1::/48`, RFC 8215): a network's own translator,
/// which reaches its private IPv4 space.
fn is_local_nat64(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1
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
    fn ipv6_transition_addresses_are_classified_by_the_ipv4_inside() {
        let p = Targets::Public;
        for bad in [
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a00:1",
            "::127.0.0.1",
            "::10.0.0.1",
            "::ffff:7f00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101::",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
        ] {
            assert!(p.refuses(ip(bad)).is_some(), "{bad}");
        }
        for good in [
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "::ffff:5db8:d822",
        ] {
            assert_eq!(p.refuses(ip(good)), None, "{good}");
        }
        assert!(p.refuses(ip("::")).is_some());
        assert_eq!(
            p.refuses(ip("64:ff9b::a9fe:a9fe")),
            Some("a link-local or cloud metadata address")
        );
        assert_eq!(Targets::Private.refuses(ip("64:ff9b::a00:1")), None);
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
