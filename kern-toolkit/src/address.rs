//! Which addresses [`HttpTools`](crate::HttpTools) may connect to: by default none of the
//! loopback, private, link-local (cloud metadata), shared, multicast or reserved ranges, unless
//! the host allows a network explicitly. Checked on every address a name resolves to (a DNS
//! resolver of reqwest's), on literal addresses in a URL, and on every redirect.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The networks the host allows beyond the public internet.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddressPolicy {
    allowed: Vec<(IpAddr, u8)>,
}

impl AddressPolicy {
    /// Allows the network `addr/prefix` (the prefix is cut to the address's length).
    pub(crate) fn allow(&mut self, addr: IpAddr, prefix: u8) {
        let addr = addr.to_canonical();
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        self.allowed.push((addr, prefix.min(bits)));
    }

    /// `None` when `ip` may be reached, else why not (for the model to read).
    pub(crate) fn refusal(&self, ip: IpAddr) -> Option<String> {
        let ip = ip.to_canonical();
        if self
            .allowed
            .iter()
            .any(|&(net, prefix)| contains(net, prefix, ip))
        {
            return None;
        }
        let what = classify(ip)?;
        Some(format!(
            "{ip} is {what}: HttpTools refuses loopback, private, link-local (cloud metadata) and \
             other non-public addresses unless the host allows them (HttpTools::allow_network)"
        ))
    }
}

fn contains(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

/// What kind of non-public address `ip` is, or `None` for a public one.
fn classify(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "the cloud metadata address",
        (0, _, _) => "an unspecified (\"this network\") address",
        (127, _, _) => "a loopback address",
        (10, _, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (192, 168, _) => "a private address",
        (169, 254, _) => "a link-local address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (192, 0, 0) => "an IETF protocol address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    match segments {
        // IPv4-compatible (deprecated) and NAT64: an IPv4 address inside.
        [0, 0, 0, 0, 0, 0, high, low] | [0x64, 0xff9b, 0, 0, 0, 0, high, low] => {
            return classify_v4(embedded_v4(high, low));
        }
        [0x64, 0xff9b, 1, ..] => return Some("a local NAT64 address"),
        // 6to4: the IPv4 address in the bits after 2002::/16.
        [0x2002, high, low, ..] => return classify_v4(embedded_v4(high, low)),
        _ => {}
    }
    let first = segments[0];
    Some(match first {
        _ if first & 0xffc0 == 0xfe80 => "a link-local address",
        _ if first & 0xffc0 == 0xfec0 => "a site-local address",
        _ if first & 0xfe00 == 0xfc00 => "a unique local (private) address",
        _ if first & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

/// Looking a name up: the system's resolver, or a stand-in in tests.
pub(crate) type Lookup = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>
        + Send
        + Sync,
>;

/// The system's resolver (getaddrinfo, through tokio).
pub(crate) fn system_lookup() -> Lookup {
    Arc::new(|name: String| {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    })
}

/// reqwest's resolver for [`HttpTools`](crate::HttpTools): the addresses of a name, less the
/// refused ones; an error when none is left, so nothing is ever connected to a refused address.
pub(crate) struct GuardedResolver {
    pub(crate) policy: Arc<AddressPolicy>,
    pub(crate) lookup: Lookup,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let lookup = self.lookup.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let found = lookup(name.clone()).await?;
            let mut refused = Vec::new();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter_map(|ip| match policy.refusal(ip) {
                    None => Some(SocketAddr::new(ip, 0)),
                    Some(why) => {
                        refused.push(why);
                        None
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "no address".to_owned());
                return Err(
                    format!("refused: `{name}` resolves to no allowed address ({why})").into(),
                );
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        AddressPolicy::default()
            .refusal(ip.parse().unwrap())
            .is_some()
    }

    #[test]
    fn non_public_addresses_are_refused_by_default() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.100.100.200",
            "192.0.0.192",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "ff02::1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "93.184.215.14",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::",
        ] {
            assert!(!refused(ip), "{ip} should pass");
        }
    }

    #[test]
    fn an_allowed_network_opens_exactly_its_range() {
        let mut policy = AddressPolicy::default();
        policy.allow("10.1.0.0".parse().unwrap(), 16);
        policy.allow("::1".parse().unwrap(), 128);
        assert!(policy.refusal("10.1.2.3".parse().unwrap()).is_none());
        assert!(policy.refusal("10.2.0.1".parse().unwrap()).is_some());
        assert!(policy.refusal("::1".parse().unwrap()).is_none());
        assert!(policy.refusal("127.0.0.1".parse().unwrap()).is_some());
        // A mapped address is its IPv4 address, for the allowlist too.
        assert!(policy.refusal("::ffff:10.1.9.9".parse().unwrap()).is_none());
        let mut all = AddressPolicy::default();
        all.allow("0.0.0.0".parse().unwrap(), 0);
        assert!(all.refusal("192.168.0.1".parse().unwrap()).is_none());
        assert!(all.refusal("::1".parse().unwrap()).is_some());
    }

    #[test]
    fn the_message_names_the_address_and_the_way_to_allow_it() {
        let why = AddressPolicy::default()
            .refusal("169.254.169.254".parse().unwrap())
            .unwrap();
        assert!(
            why.contains("169.254.169.254 is the cloud metadata address"),
            "{why}"
        );
        assert!(why.contains("allow_network"), "{why}");
    }
}
