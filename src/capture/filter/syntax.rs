//! The grammar of capture filters, as pcap-filter(7) writes them:
//! primitives (`host 10.0.0.1`, `tcp dst port 25`, `net 10.0.0.0/8`),
//! relations over packet bytes (`tcp[tcpflags] & tcp-syn != 0`), joined by
//! `and`/`&&`, `or`/`||` and `not`/`!`.
//!
//! Two rules of pcap-filter(7) that surprise: `and` and `or` have the same
//! precedence and group from the left (`a or b and c` is `(a or b) and c`),
//! and a bare id after `and`/`or` takes the qualifiers of the primitive
//! before it (`port 25 or 110` is `port 25 or port 110`).
//!
//! Host names are not looked up (libpcap asks the resolver when it compiles
//! a filter; an analysis of a capture should not depend on today's DNS).

use std::net::IpAddr;

use super::FilterError;
use super::tokens::{ArithOp, RelOp, Spanned, Token, tokenize};

/// A parsed filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Primitive(Primitive),
    Relation(Arith, RelOp, Arith),
}

/// Which end of a packet a primitive looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Src,
    Dst,
    /// No direction, or `src or dst`.
    Either,
    /// `src and dst`.
    Both,
}

/// The protocol layers a primitive or a byte offset can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// The link header (`ether[0]`, `link[0]`).
    Link,
    Ip,
    Ip6,
    Arp,
    Rarp,
    Tcp,
    Udp,
    Sctp,
    Icmp,
    Icmp6,
    Igmp,
}

impl Layer {
    fn named(word: &str) -> Option<Layer> {
        Some(match word {
            "ether" | "link" => Layer::Link,
            "ip" => Layer::Ip,
            "ip6" => Layer::Ip6,
            "arp" => Layer::Arp,
            "rarp" => Layer::Rarp,
            "tcp" => Layer::Tcp,
            "udp" => Layer::Udp,
            "sctp" => Layer::Sctp,
            "icmp" => Layer::Icmp,
            "icmp6" => Layer::Icmp6,
            "igmp" => Layer::Igmp,
            _ => return None,
        })
    }

    /// The IP protocol number of a transport layer.
    pub fn ip_protocol(self) -> Option<u8> {
        Some(match self {
            Layer::Tcp => 6,
            Layer::Udp => 17,
            Layer::Sctp => 132,
            Layer::Icmp => 1,
            Layer::Icmp6 => 58,
            Layer::Igmp => 2,
            _ => return None,
        })
    }
}

/// The one-word tests of pcap-filter(7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Primitive {
    /// `[ip|ip6|arp|rarp] [src|dst] host ADDR`; without a family an IPv4
    /// address matches IPv4 and the addresses inside ARP/RARP too.
    Host {
        family: Option<Layer>,
        dir: Dir,
        addr: IpAddr,
    },
    /// `net 10.0.0.0/8`, `net 10.1`, `net 10.0.0.0 mask 255.0.0.0`.
    Net {
        family: Option<Layer>,
        dir: Dir,
        addr: IpAddr,
        prefix: u8,
    },
    /// `ether [src|dst] host 00:11:22:33:44:55`.
    EtherHost { dir: Dir, mac: [u8; 6] },
    /// `[tcp|udp|sctp] [src|dst] port N` and `portrange N-M`.
    Port {
        transport: Option<Layer>,
        dir: Dir,
        first: u16,
        last: u16,
    },
    /// `tcp`, `ip6`, `arp`…: packets of that protocol.
    Protocol(Layer),
    /// `ip proto 6`, `ip6 proto \udp`, `proto 17` (either family).
    IpProto { family: Option<Layer>, number: u8 },
    /// `ether proto 0x0806`, `ether proto \arp`.
    EtherProto(u16),
    /// `vlan` / `vlan 100`: an 802.1Q or 802.1ad tag (the outer one).
    Vlan(Option<u16>),
    /// `less N` (length ≤ N) and `greater N` (length ≥ N).
    Length(RelOp, u32),
    /// `ether broadcast` / `broadcast`.
    Broadcast,
    /// `ether multicast` / `multicast` (the group bit of the destination
    /// MAC), `ip multicast` (224.0.0.0/4), `ip6 multicast` (ff00::/8).
    Multicast(Option<Layer>),
}

/// An arithmetic expression of a relation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arith {
    Number(u32),
    /// `len`: the packet's length on the wire.
    Len,
    /// `proto[offset:size]`: `size` (1, 2 or 4) bytes, big-endian, at
    /// `offset` from the start of `layer`'s header.
    Load {
        layer: Layer,
        offset: Box<Arith>,
        size: u8,
    },
    Binary(ArithOp, Box<Arith>, Box<Arith>),
    Negate(Box<Arith>),
}

/// The qualifiers in front of an id, remembered for abbreviations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Qualifiers {
    layer: Option<Layer>,
    dir: Option<Dir>,
    kind: Option<Kind>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Host,
    Net,
    Port,
    PortRange,
    Proto,
}

/// The `tcp[tcpflags] & tcp-syn` constants of pcap-filter(7).
fn named_constant(word: &str) -> Option<u32> {
    Some(match word {
        "tcpflags" => 13,
        "tcp-fin" => 0x01,
        "tcp-syn" => 0x02,
        "tcp-rst" => 0x04,
        "tcp-push" => 0x08,
        "tcp-ack" => 0x10,
        "tcp-urg" => 0x20,
        "tcp-ece" => 0x40,
        "tcp-cwr" => 0x80,
        "icmptype" | "icmp6type" => 0,
        "icmpcode" | "icmp6code" => 1,
        "icmp-echoreply" => 0,
        "icmp-unreach" => 3,
        "icmp-sourcequench" => 4,
        "icmp-redirect" => 5,
        "icmp-echo" => 8,
        "icmp-routeradvert" => 9,
        "icmp-routersolicit" => 10,
        "icmp-timxceed" => 11,
        "icmp-paramprob" => 12,
        "icmp-tstamp" => 13,
        "icmp-tstampreply" => 14,
        "icmp-ireq" => 15,
        "icmp-ireqreply" => 16,
        "icmp-maskreq" => 17,
        "icmp-maskreply" => 18,
        "icmp6-destinationunreach" => 1,
        "icmp6-packettoobig" => 2,
        "icmp6-timeexceeded" => 3,
        "icmp6-parameterproblem" => 4,
        "icmp6-echo" => 128,
        "icmp6-echoreply" => 129,
        "icmp6-routersolicit" => 133,
        "icmp6-routeradvert" => 134,
        "icmp6-neighborsolicit" => 135,
        "icmp6-neighboradvert" => 136,
        _ => return None,
    })
}

/// Service names a filter may use for a port, as in /etc/services: the
/// mail ports and their neighbours in a capture. (libpcap reads the
/// machine's services file; a fixed table gives the same answer anywhere.)
fn service_port(name: &str) -> Option<u16> {
    Some(match name {
        "ftp-data" => 20,
        "ftp" => 21,
        "ssh" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "domain" => 53,
        "http" | "www" => 80,
        "pop3" | "pop-3" => 110,
        "imap" | "imap2" => 143,
        "https" => 443,
        "submissions" | "smtps" | "ssmtp" | "urd" => 465,
        "submission" => 587,
        "imaps" => 993,
        "pop3s" => 995,
        "sieve" => 4190,
        _ => return None,
    })
}

/// A number as pcap-filter(7) writes them: decimal, `0x` hex, `0` octal.
fn number(word: &str) -> Option<u32> {
    if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()
    } else if word.len() > 1 && word.starts_with('0') {
        u32::from_str_radix(&word[1..], 8).ok()
    } else if word.bytes().all(|b| b.is_ascii_digit()) {
        word.parse().ok()
    } else {
        None
    }
}

fn is_keyword(word: &str) -> bool {
    Layer::named(word).is_some()
        || matches!(
            word,
            "src"
                | "dst"
                | "host"
                | "net"
                | "port"
                | "portrange"
                | "proto"
                | "mask"
                | "vlan"
                | "less"
                | "greater"
                | "broadcast"
                | "multicast"
                | "len"
                | "gateway"
        )
}

/// Parses a whole filter.
pub fn parse(text: &str) -> Result<Expr, FilterError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(FilterError::at(text, 0, "the filter is empty".into()));
    }
    let mut p = Parser {
        text,
        tokens,
        pos: 0,
        last: None,
    };
    let expr = p.expr()?;
    if p.pos < p.tokens.len() {
        return Err(p.error("this does not continue the filter (a missing 'and'/'or'?)"));
    }
    Ok(expr)
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Spanned>,
    pos: usize,
    /// The qualifiers of the last primitive, for `port 25 or 110`.
    last: Option<Qualifiers>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|s| &s.token)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.pos + ahead).map(|s| &s.token)
    }

    fn peek_word(&self) -> Option<&str> {
        match self.peek() {
            Some(Token::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn error(&self, why: &str) -> FilterError {
        let at = self.tokens.get(self.pos).map_or(self.text.len(), |s| s.at);
        FilterError::at(self.text, at, why.to_string())
    }

    fn error_before(&self, why: String) -> FilterError {
        let at = self
            .tokens
            .get(self.pos.saturating_sub(1))
            .map_or(self.text.len(), |s| s.at);
        FilterError::at(self.text, at, why)
    }

    fn next_word(&mut self, what: &str) -> Result<String, FilterError> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            _ => Err(self.error(&format!("{what} is missing here"))),
        }
    }

    /// expr := unary (("and" | "or") unary)*, grouped from the left.
    fn expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        loop {
            let and = match self.peek() {
                Some(Token::And) => true,
                Some(Token::Or) => false,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.unary()?;
            left = if and {
                Expr::And(Box::new(left), Box::new(right))
            } else {
                Expr::Or(Box::new(left), Box::new(right))
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let start = self.pos;
        match self.peek() {
            None => Err(self.error("the filter ends where a test should be")),
            Some(Token::LParen) => {
                // `(` opens either a group of tests or an arithmetic
                // expression: `(tcp[13] & 2) != 0`. Try the group first.
                self.pos += 1;
                let group = self.expr().and_then(|e| match self.peek() {
                    Some(Token::RParen) => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => Err(self.error("a ')' is missing here")),
                });
                match group {
                    Ok(e) if !matches!(self.peek(), Some(Token::Rel(_) | Token::Arith(_))) => Ok(e),
                    first_error => {
                        self.pos = start;
                        self.relation().map_err(|e| match first_error {
                            Err(group_error) if group_error.at > e.at => group_error,
                            _ => e,
                        })
                    }
                }
            }
            Some(Token::Arith(ArithOp::Sub)) => self.relation(),
            Some(Token::Word(w)) => {
                let w = w.clone();
                let next_is_bracket = self.peek_at(1) == Some(&Token::LBracket);
                let next_is_operator =
                    matches!(self.peek_at(1), Some(Token::Rel(_) | Token::Arith(_)));
                if (Layer::named(&w).is_some() && next_is_bracket)
                    || w == "len"
                    || named_constant(&w).is_some()
                    || (number(&w).is_some() && next_is_operator)
                {
                    return self.relation();
                }
                if is_keyword(&w) {
                    return self.primitive();
                }
                // A bare id: the qualifiers of the primitive before it
                // (`port 25 or 110`), or a host (`10.0.0.1`).
                let quals = self.last.unwrap_or(Qualifiers {
                    kind: Some(Kind::Host),
                    ..Qualifiers::default()
                });
                self.pos += 1;
                let p = self.with_id(quals, &w)?;
                Ok(Expr::Primitive(p))
            }
            Some(_) => Err(self.error("a test should start here")),
        }
    }

    /// `[layer] [dir] [kind] id`, and the primitives of one keyword.
    fn primitive(&mut self) -> Result<Expr, FilterError> {
        let mut q = Qualifiers::default();
        let word = self.peek_word().unwrap_or_default().to_string();
        match word.as_str() {
            "vlan" => {
                self.pos += 1;
                let id = match self.peek_word().and_then(number) {
                    Some(n) if n < 4096 => {
                        self.pos += 1;
                        Some(n as u16)
                    }
                    Some(_) => return Err(self.error("a VLAN id is below 4096")),
                    None => None,
                };
                self.last = None;
                return Ok(Expr::Primitive(Primitive::Vlan(id)));
            }
            "less" | "greater" => {
                self.pos += 1;
                let w = self.next_word("a length")?;
                let n = number(&w)
                    .ok_or_else(|| self.error_before(format!("'{w}' is not a length")))?;
                let op = if word == "less" { RelOp::Le } else { RelOp::Ge };
                self.last = None;
                return Ok(Expr::Primitive(Primitive::Length(op, n)));
            }
            "gateway" => {
                return Err(self.error("'gateway' needs host names resolved to MAC addresses, which an offline analysis cannot do"));
            }
            _ => {}
        }
        if let Some(layer) = self.peek_word().and_then(Layer::named) {
            self.pos += 1;
            q.layer = Some(layer);
        }
        match self.peek_word() {
            Some("broadcast") => {
                self.pos += 1;
                return match q.layer {
                    None | Some(Layer::Link) => Ok(Expr::Primitive(Primitive::Broadcast)),
                    _ => Err(self.error_before("only 'ether broadcast' is known here (IP broadcast needs the network's mask)".into())),
                };
            }
            Some("multicast") => {
                self.pos += 1;
                return match q.layer {
                    None | Some(Layer::Link) => Ok(Expr::Primitive(Primitive::Multicast(None))),
                    Some(l @ (Layer::Ip | Layer::Ip6)) => {
                        Ok(Expr::Primitive(Primitive::Multicast(Some(l))))
                    }
                    _ => Err(self.error_before("'multicast' goes with ether, ip or ip6".into())),
                };
            }
            _ => {}
        }
        match self.peek_word() {
            Some("src") | Some("dst") => {
                let first = self.peek_word() == Some("src");
                self.pos += 1;
                let mut dir = if first { Dir::Src } else { Dir::Dst };
                // `src or dst` / `src and dst` (either order).
                let other = if first { "dst" } else { "src" };
                if let (Some(join @ (Token::Or | Token::And)), Some(Token::Word(w))) =
                    (self.peek(), self.peek_at(1))
                    && w == other
                {
                    dir = if *join == Token::Or {
                        Dir::Either
                    } else {
                        Dir::Both
                    };
                    self.pos += 2;
                }
                q.dir = Some(dir);
            }
            _ => {}
        }
        q.kind = match self.peek_word() {
            Some("host") => Some(Kind::Host),
            Some("net") => Some(Kind::Net),
            Some("port") => Some(Kind::Port),
            Some("portrange") => Some(Kind::PortRange),
            Some("proto") => Some(Kind::Proto),
            _ => None,
        };
        if q.kind.is_some() {
            self.pos += 1;
        }
        let has_id = matches!(self.peek(), Some(Token::Word(w)) if !is_keyword(w) || q.kind == Some(Kind::Proto));
        if q.dir.is_none() && q.kind.is_none() && !has_id {
            // A protocol alone: `tcp`, `ip6`.
            self.last = None;
            return match q.layer {
                Some(Layer::Link) => Err(self
                    .error("'ether' needs host, src, dst, proto, broadcast or multicast after it")),
                Some(layer) => Ok(Expr::Primitive(Primitive::Protocol(layer))),
                None => Err(self.error("a test should start here")),
            };
        }
        let id = self.next_word("an address, a port or a number")?;
        let p = self.with_id(q, &id)?;
        self.last = Some(q);
        Ok(Expr::Primitive(p))
    }

    /// Builds the primitive of `id` under qualifiers `q`.
    fn with_id(&mut self, q: Qualifiers, id: &str) -> Result<Primitive, FilterError> {
        let dir = q.dir.unwrap_or(Dir::Either);
        let bad = |me: &Self, why: String| Err(me.error_before(why));
        let kind = q
            .kind
            .unwrap_or(if q.layer.is_some_and(|l| l.ip_protocol().is_some()) {
                Kind::Port
            } else {
                Kind::Host
            });
        if q.kind.is_none() && kind == Kind::Port {
            return bad(
                self,
                format!("'{id}' after a transport needs 'port' or 'portrange' before it"),
            );
        }
        match kind {
            Kind::Host if q.layer == Some(Layer::Link) => match mac(id) {
                Some(mac) => Ok(Primitive::EtherHost { dir, mac }),
                None => bad(
                    self,
                    format!("'{id}' is not a MAC address (00:11:22:33:44:55)"),
                ),
            },
            Kind::Host | Kind::Net => {
                if let Some(l) = q.layer
                    && !matches!(l, Layer::Ip | Layer::Ip6 | Layer::Arp | Layer::Rarp)
                {
                    return bad(
                        self,
                        format!("'{}' cannot qualify a host or a net", layer_name(l)),
                    );
                }
                let (addr, prefix) = if kind == Kind::Net {
                    self.network(id)?
                } else if id.contains('/') {
                    return bad(self, format!("'{id}': a mask goes with 'net', not 'host'"));
                } else {
                    match id.parse::<IpAddr>() {
                        Ok(a) => (a, 0),
                        Err(_) => {
                            return bad(
                                self,
                                format!(
                                    "'{id}' is not an address (host names are not looked up in an offline analysis; give the address)"
                                ),
                            );
                        }
                    }
                };
                if (q.layer == Some(Layer::Ip6) && addr.is_ipv4())
                    || (matches!(q.layer, Some(Layer::Ip | Layer::Arp | Layer::Rarp))
                        && addr.is_ipv6())
                {
                    return bad(self, format!("'{id}' is not an address of that family"));
                }
                Ok(if kind == Kind::Host {
                    Primitive::Host {
                        family: q.layer,
                        dir,
                        addr,
                    }
                } else {
                    Primitive::Net {
                        family: q.layer,
                        dir,
                        addr,
                        prefix,
                    }
                })
            }
            Kind::Port | Kind::PortRange => {
                if let Some(l) = q.layer
                    && !matches!(l, Layer::Tcp | Layer::Udp | Layer::Sctp)
                {
                    return bad(
                        self,
                        format!(
                            "'{}' cannot qualify a port (tcp, udp or sctp can)",
                            layer_name(l)
                        ),
                    );
                }
                let port = |w: &str| {
                    number(w)
                        .and_then(|n| u16::try_from(n).ok())
                        .or_else(|| service_port(w))
                };
                let (first, last) = if kind == Kind::PortRange {
                    let Some((a, b)) = id.split_once('-') else {
                        return bad(self, format!("'{id}' is not a range (20-25)"));
                    };
                    match (port(a), port(b)) {
                        (Some(a), Some(b)) => (a.min(b), a.max(b)),
                        _ => return bad(self, format!("'{id}' is not a range of ports")),
                    }
                } else {
                    match port(id) {
                        Some(p) => (p, p),
                        None => {
                            return bad(
                                self,
                                format!("'{id}' is not a port number or a known service name"),
                            );
                        }
                    }
                };
                Ok(Primitive::Port {
                    transport: q.layer,
                    dir,
                    first,
                    last,
                })
            }
            Kind::Proto => {
                if q.dir.is_some() {
                    return bad(self, "'proto' takes no src or dst".into());
                }
                let name = id.trim_start_matches('\\');
                match q.layer {
                    Some(Layer::Link) => {
                        let value = number(name).or(match name {
                            "ip" => Some(0x0800),
                            "ip6" => Some(0x86dd),
                            "arp" => Some(0x0806),
                            "rarp" => Some(0x8035),
                            _ => None,
                        });
                        match value.and_then(|v| u16::try_from(v).ok()) {
                            Some(v) => Ok(Primitive::EtherProto(v)),
                            None => bad(self, format!("'{id}' is not an EtherType")),
                        }
                    }
                    None | Some(Layer::Ip | Layer::Ip6) => {
                        let value = number(name).or_else(|| {
                            Layer::named(name)
                                .and_then(Layer::ip_protocol)
                                .map(u32::from)
                        });
                        match value.and_then(|v| u8::try_from(v).ok()) {
                            Some(number) => Ok(Primitive::IpProto {
                                family: q.layer,
                                number,
                            }),
                            None => bad(self, format!("'{id}' is not an IP protocol")),
                        }
                    }
                    Some(l) => bad(self, format!("'{} proto' is not known", layer_name(l))),
                }
            }
        }
    }

    /// The address and prefix of a `net`: `10.0.0.0/8`, `10.1` (a /16),
    /// `2001:db8::/32`, `10.0.0.0 mask 255.0.0.0`.
    fn network(&mut self, id: &str) -> Result<(IpAddr, u8), FilterError> {
        let (addr_text, prefix_text) = match id.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (id, None),
        };
        let (addr, implied): (IpAddr, u8) = match addr_text.parse::<IpAddr>() {
            Ok(a) => (a, if a.is_ipv4() { 32 } else { 128 }),
            Err(_) => {
                // `10`, `10.1`, `10.1.2`: the octets given, then zeros.
                let octets: Vec<Option<u8>> =
                    addr_text.split('.').map(|o| o.parse().ok()).collect();
                if octets.len() > 3 || octets.iter().any(Option::is_none) {
                    return Err(self.error_before(format!("'{id}' is not a network")));
                }
                let mut a = [0u8; 4];
                for (i, o) in octets.iter().enumerate() {
                    a[i] = o.unwrap_or(0);
                }
                (IpAddr::from(a), 8 * octets.len() as u8)
            }
        };
        let full = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= full => p,
                _ => return Err(self.error_before(format!("'{p}' is not a prefix length"))),
            },
            None if self.peek_word() == Some("mask") => {
                self.pos += 1;
                let m = self.next_word("a mask")?;
                let mask = match m.parse::<IpAddr>() {
                    Ok(IpAddr::V4(m)) if addr.is_ipv4() => u32::from(m),
                    _ => return Err(self.error_before(format!("'{m}' is not an IPv4 mask"))),
                };
                if mask.leading_ones() + mask.trailing_zeros() != 32 {
                    return Err(self.error_before(format!("'{m}' is not a contiguous mask")));
                }
                mask.leading_ones() as u8
            }
            None => implied,
        };
        if host_bits_set(addr, prefix) {
            return Err(self.error_before(format!("'{id}' has bits set beyond its mask")));
        }
        Ok((addr, prefix))
    }

    /// relation := arith relop arith
    fn relation(&mut self) -> Result<Expr, FilterError> {
        let left = self.arith(0)?;
        let op = match self.peek() {
            Some(Token::Rel(op)) => *op,
            _ => return Err(self.error("a comparison (=, !=, <, <=, >, >=) is missing here")),
        };
        self.pos += 1;
        let right = self.arith(0)?;
        self.last = None;
        Ok(Expr::Relation(left, op, right))
    }

    /// Precedence climbing over pcap-filter's operators, loosest first:
    /// `|` `^`, `&`, `<<` `>>`, `+` `-`, `*` `/` `%`.
    fn arith(&mut self, level: u8) -> Result<Arith, FilterError> {
        const LEVELS: [&[ArithOp]; 5] = [
            &[ArithOp::Or, ArithOp::Xor],
            &[ArithOp::And],
            &[ArithOp::Shl, ArithOp::Shr],
            &[ArithOp::Add, ArithOp::Sub],
            &[ArithOp::Mul, ArithOp::Div, ArithOp::Mod],
        ];
        if level as usize == LEVELS.len() {
            return self.arith_atom();
        }
        let mut left = self.arith(level + 1)?;
        while let Some(Token::Arith(op)) = self.peek()
            && LEVELS[level as usize].contains(op)
        {
            let op = *op;
            self.pos += 1;
            let right = self.arith(level + 1)?;
            left = Arith::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn arith_atom(&mut self) -> Result<Arith, FilterError> {
        match self.peek().cloned() {
            Some(Token::Arith(ArithOp::Sub)) => {
                self.pos += 1;
                Ok(Arith::Negate(Box::new(self.arith_atom()?)))
            }
            Some(Token::LParen) => {
                self.pos += 1;
                let inner = self.arith(0)?;
                if self.peek() != Some(&Token::RParen) {
                    return Err(self.error("a ')' is missing here"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Word(w)) => {
                self.pos += 1;
                if w == "len" {
                    return Ok(Arith::Len);
                }
                if let Some(n) = number(&w).or_else(|| named_constant(&w)) {
                    return Ok(Arith::Number(n));
                }
                let Some(layer) = Layer::named(&w) else {
                    return Err(self.error_before(format!("'{w}' is not a number")));
                };
                if self.peek() != Some(&Token::LBracket) {
                    return Err(self.error("a '[' should follow here (tcp[13])"));
                }
                self.pos += 1;
                let offset = self.arith(0)?;
                let size = if self.peek() == Some(&Token::Colon) {
                    self.pos += 1;
                    match self.peek_word().and_then(number) {
                        Some(s @ (1 | 2 | 4)) => {
                            self.pos += 1;
                            s as u8
                        }
                        _ => return Err(self.error("the size after ':' is 1, 2 or 4")),
                    }
                } else {
                    1
                };
                if self.peek() != Some(&Token::RBracket) {
                    return Err(self.error("a ']' is missing here"));
                }
                self.pos += 1;
                Ok(Arith::Load {
                    layer,
                    offset: Box::new(offset),
                    size,
                })
            }
            _ => Err(self.error("a number, 'len' or proto[offset] should be here")),
        }
    }
}

fn layer_name(l: Layer) -> &'static str {
    match l {
        Layer::Link => "ether",
        Layer::Ip => "ip",
        Layer::Ip6 => "ip6",
        Layer::Arp => "arp",
        Layer::Rarp => "rarp",
        Layer::Tcp => "tcp",
        Layer::Udp => "udp",
        Layer::Sctp => "sctp",
        Layer::Icmp => "icmp",
        Layer::Icmp6 => "icmp6",
        Layer::Igmp => "igmp",
    }
}

fn mac(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = text.split([':', '-', '.']).collect();
    let mut out = [0u8; 6];
    if parts.len() != 6 {
        return None;
    }
    for (o, p) in out.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    Some(out)
}

/// True when `addr` has bits set past its first `prefix` bits (libpcap
/// refuses `net 10.0.0.1/8` for the same reason: it is likely a typo).
fn host_bits_set(addr: IpAddr, prefix: u8) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            prefix < 32 && bits << prefix != 0
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            prefix < 128 && bits << prefix != 0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Expr {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn port(n: u16) -> Expr {
        Expr::Primitive(Primitive::Port {
            transport: None,
            dir: Dir::Either,
            first: n,
            last: n,
        })
    }

    #[test]
    fn and_and_or_group_from_the_left() {
        let tcp = Expr::Primitive(Primitive::Protocol(Layer::Tcp));
        assert_eq!(
            p("port 25 or port 110 and tcp"),
            Expr::And(
                Box::new(Expr::Or(Box::new(port(25)), Box::new(port(110)))),
                Box::new(tcp)
            )
        );
    }

    #[test]
    fn a_bare_id_takes_the_qualifiers_before_it() {
        assert_eq!(
            p("port 25 or 110 or pop3s"),
            Expr::Or(
                Box::new(Expr::Or(Box::new(port(25)), Box::new(port(110)))),
                Box::new(port(995))
            )
        );
        assert_eq!(
            p("tcp dst port smtp or 587"),
            p("tcp dst port 25 or tcp dst port 587")
        );
        assert_eq!(
            p("10.0.0.1"),
            Expr::Primitive(Primitive::Host {
                family: None,
                dir: Dir::Either,
                addr: "10.0.0.1".parse().unwrap()
            })
        );
    }

    #[test]
    fn directions_and_families() {
        assert_eq!(
            p("ip6 src or dst host ::1"),
            Expr::Primitive(Primitive::Host {
                family: Some(Layer::Ip6),
                dir: Dir::Either,
                addr: "::1".parse().unwrap()
            })
        );
        assert_eq!(
            p("src and dst net 10.1"),
            Expr::Primitive(Primitive::Net {
                family: None,
                dir: Dir::Both,
                addr: "10.1.0.0".parse().unwrap(),
                prefix: 16
            })
        );
        assert_eq!(p("net 10.0.0.0 mask 255.0.0.0"), p("net 10.0.0.0/8"));
        assert_eq!(
            p("ether src 00:1b:21:aa:bb:cc"),
            Expr::Primitive(Primitive::EtherHost {
                dir: Dir::Src,
                mac: [0, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]
            })
        );
    }

    #[test]
    fn relations_over_packet_bytes() {
        assert_eq!(
            p("tcp[tcpflags] & (tcp-syn|tcp-fin) != 0"),
            Expr::Relation(
                Arith::Binary(
                    ArithOp::And,
                    Box::new(Arith::Load {
                        layer: Layer::Tcp,
                        offset: Box::new(Arith::Number(13)),
                        size: 1
                    }),
                    Box::new(Arith::Binary(
                        ArithOp::Or,
                        Box::new(Arith::Number(2)),
                        Box::new(Arith::Number(1))
                    ))
                ),
                RelOp::Ne,
                Arith::Number(0)
            )
        );
        // A parenthesis that opens arithmetic, not a group of tests.
        assert!(matches!(p("(tcp[12] >> 4) * 4 > 20"), Expr::Relation(..)));
        assert!(matches!(p("(port 25) and (len > 100)"), Expr::And(..)));
        assert!(matches!(p("ip[2:2] - 20 >= 0x10"), Expr::Relation(..)));
    }

    #[test]
    fn what_is_refused_is_pointed_at() {
        for (text, at, says) in [
            ("host mail.example.com", 5, "not looked up"),
            ("port 99999", 5, "not a port"),
            ("tcp host 10.0.0.1", 9, "cannot qualify a host"),
            ("port 25 and", 11, "ends"),
            ("port 25 port 110", 8, "does not continue"),
            ("net 10.0.0.1/8", 4, "beyond its mask"),
            ("tcp[13:3] = 0", 7, "1, 2 or 4"),
            ("(port 25", 8, "')' is missing"),
            ("", 0, "empty"),
            ("gateway snow", 0, "offline"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!((e.at, e.why.contains(says)), (at, true), "{text}: {e}");
        }
    }
}
