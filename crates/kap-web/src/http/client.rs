//! Who a request comes from. Behind a reverse proxy every connection comes from the proxy, so
//! the client's address is read from `Forwarded` / `X-Forwarded-For` — but only when the
//! connection comes from a proxy the operator listed as trusted (`trusted_proxies`), and then the
//! right-most address that is not itself a trusted proxy: the nearest hop a client could not
//! have forged.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// Parses the `trusted_proxies` setting: addresses or CIDR ranges.
pub fn parse_trusted(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|s| {
            let t = s.trim();
            t.parse::<IpNet>()
                .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("trusted_proxies: \"{t}\" is not an address or CIDR range"))
        })
        .collect()
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|n| n.contains(&ip))
}

/// One address of a forwarding header: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443`,
/// `"[2001:db8::1]"`; obfuscated or unknown hops give `None`.
fn hop(s: &str) -> Option<IpAddr> {
    let t = s.trim().trim_matches('"');
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    t.parse().ok().or_else(|| {
        let (host, port) = t.rsplit_once(':')?;
        port.parse::<u16>().ok()?;
        host.parse().ok()
    })
}

/// The hops a request passed through, oldest first, from `Forwarded` (RFC 7239) if present,
/// else `X-Forwarded-For`.
fn forwarded_hops(h: &HeaderMap) -> Vec<Option<IpAddr>> {
    let all = |name: &str| {
        h.get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let forwarded = all("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| hop(v))
            })
            .collect();
    }
    all("x-forwarded-for").iter().map(|s| hop(s)).collect()
}

/// The client's address: the peer itself, unless the peer is a trusted proxy; then the
/// right-most forwarded hop that is not a trusted proxy. A hop that cannot be read stops the
/// walk there (it is not trusted, and nothing left of it can be believed).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let mut client = peer;
    for h in forwarded_hops(headers).into_iter().rev() {
        match h {
            Some(ip) if trusted(ip, proxies) => client = ip,
            Some(ip) => return ip,
            None => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                *k,
                HeaderValue::from_str(v).unwrap_or_else(|_| unreachable!()),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    fn proxies() -> Vec<IpNet> {
        parse_trusted(&["10.0.0.0/8".into(), "127.0.0.1".into()]).unwrap_or_default()
    }

    #[test]
    fn a_direct_client_cannot_claim_another_address() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            client_ip(ip("198.51.100.7"), &h, &proxies()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        // The client forged the first entry; the proxy appended the address it saw.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.1.2.3")]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &proxies()),
            ip("203.0.113.9")
        );
        let h = headers(&[(
            "forwarded",
            "for=1.1.1.1, for=\"[2001:db8::7]:443\";proto=https",
        )]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &proxies()), ip("2001:db8::7"));
        let h = headers(&[("x-forwarded-for", "203.0.113.9:51000")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &proxies()), ip("203.0.113.9"));
    }

    #[test]
    fn an_unreadable_hop_stops_the_walk() {
        let h = headers(&[("forwarded", "for=_hidden, for=10.0.0.9")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &proxies()), ip("10.0.0.9"));
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &proxies()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn bad_proxy_settings_are_named() {
        let e = parse_trusted(&["10.0.0.0/8".into(), "proxy.local".into()]).err();
        assert_eq!(
            e.as_deref(),
            Some("trusted_proxies: \"proxy.local\" is not an address or CIDR range")
        );
    }

    proptest! {
        #[test]
        fn without_trusted_proxies_the_peer_is_always_the_client(
            a in any::<[u8; 4]>(), fwd in "[0-9., :a-f\\[\\]]{0,40}"
        ) {
            let peer = IpAddr::from(a);
            let h = headers(&[("x-forwarded-for", &fwd)]);
            prop_assert_eq!(client_ip(peer, &h, &[]), peer);
        }
    }
}
