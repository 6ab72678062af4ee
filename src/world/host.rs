//! What every server of one simulated mail host shares: its name, the
//! domains it is the final destination for, its users, its store, its TLS
//! certificate, its policy and the recorder.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio_rustls::TlsAcceptor;

use super::recorder::Recorder;
use super::store::Store;
use crate::proto::sasl;
use crate::proto::smtp::domain_of;

/// The mailbox every mail domain must have (RFC 5321 §4.5.1).
pub const POSTMASTER: &str = "postmaster";

/// Users and their passwords. The servers need the password itself (not a
/// hash) for the challenge-response mechanisms of the course: APOP
/// (RFC 1939 §7) and CRAM-MD5 (RFC 2195) both compute MD5 over a secret
/// shared by client and server.
#[derive(Clone, Debug, Default)]
pub struct Accounts {
    passwords: BTreeMap<String, String>,
}

impl Accounts {
    pub fn new(users: &[(&str, &str)]) -> Accounts {
        Accounts {
            passwords: users
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
        }
    }

    /// Parse `name:password` (the `--user` option).
    pub fn add_spec(&mut self, spec: &str) -> Result<(), String> {
        match spec.split_once(':') {
            Some((u, p)) if !u.is_empty() && !p.is_empty() => {
                self.passwords.insert(u.to_string(), p.to_string());
                Ok(())
            }
            _ => Err(format!("expected NAME:PASSWORD, got {spec:?}")),
        }
    }

    pub fn password(&self, user: &str) -> Option<&str> {
        self.passwords.get(user).map(String::as_str)
    }

    pub fn check(&self, user: &str, password: &str) -> bool {
        self.password(user).is_some_and(|p| p == password)
    }

    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.passwords.keys().map(String::as_str)
    }
}

/// Decode an AUTH PLAIN response (RFC 4616): base64 of
/// `authzid NUL authcid NUL passwd`. Returns (user, password). The servers
/// read SASL with the same grammar the analyzer uses on captures
/// (`proto::sasl`).
pub fn decode_plain(b64: &str) -> Option<(String, String)> {
    let raw = sasl::decode_base64(b64.as_bytes())?;
    let (authzid, user, pass) = sasl::parse_plain(&raw)?;
    // Acting as another user (a different authzid) is not supported.
    if !authzid.is_empty() && authzid != user {
        return None;
    }
    Some((user, pass))
}

/// Whether an AUTH PLAIN response cannot be a credential at all: not
/// base64, or not `authzid NUL authcid NUL passwd` once decoded. That is a
/// syntax error (SMTP 501, RFC 4954 §4; POP3 -ERR, RFC 5034 §4; IMAP BAD,
/// RFC 3501 §6.2.2), not a failed login: no password was tried.
pub fn plain_malformed(b64: &str) -> bool {
    sasl::decode_base64(b64.as_bytes()).is_none_or(|raw| sasl::parse_plain(&raw).is_none())
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decode one base64 SASL line (`=` alone is the empty response).
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    sasl::decode_base64(text.as_bytes())
}

/// Slows down password guessing, counting failures both per client
/// address and per user name: each failure doubles the wait before the
/// next answer (100 ms, 200 ms, … up to 3.2 s); after
/// [`AuthThrottle::LOCKOUT_AFTER`] failures from one address, or
/// [`AuthThrottle::USER_LOCKOUT_AFTER`] for one user from anywhere, within
/// [`AuthThrottle::WINDOW`], every login from that address or as that user
/// is refused (the right password too) until the window has passed.
///
/// A success clears only the count of the user who logged in: a guesser
/// who knows one password (alice's) and logs in with it between guesses
/// at bob's keeps both its address's count and bob's.
#[derive(Default)]
pub struct AuthThrottle {
    failures: Mutex<HashMap<Guesser, (u32, Instant)>>,
}

/// Whose failures a count is.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Guesser {
    Address(IpAddr),
    /// Lower-cased, so `Bob` and `bob` share one count.
    User(String),
}

impl Guesser {
    fn user(name: &str) -> Guesser {
        Guesser::User(name.to_lowercase())
    }
}

impl AuthThrottle {
    pub const LOCKOUT_AFTER: u32 = 5;
    /// Higher than the address's: anyone can make a user's count grow, so
    /// a low one would let any client lock a user out.
    pub const USER_LOCKOUT_AFTER: u32 = 10;
    pub const WINDOW: Duration = Duration::from_secs(60);
    /// Counts kept before expired ones are swept (user names come from the
    /// network, so the map must not grow without bound).
    const SWEEP_ABOVE: usize = 10_000;

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Guesser, (u32, Instant)>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn current(map: &HashMap<Guesser, (u32, Instant)>, who: &Guesser) -> u32 {
        match map.get(who) {
            Some((n, since)) if since.elapsed() < Self::WINDOW => *n,
            _ => 0,
        }
    }

    /// Is this address, or (when known) this user, locked out for now?
    pub fn locked(&self, ip: IpAddr, user: Option<&str>) -> bool {
        let map = self.map();
        Self::current(&map, &Guesser::Address(ip)) >= Self::LOCKOUT_AFTER
            || user
                .is_some_and(|u| Self::current(&map, &Guesser::user(u)) >= Self::USER_LOCKOUT_AFTER)
    }

    /// Note a failed login from `ip` (as `user`, when the attempt named
    /// one); returns how long to wait before answering.
    pub fn failed(&self, ip: IpAddr, user: Option<&str>) -> Duration {
        let mut map = self.map();
        if map.len() > Self::SWEEP_ABOVE {
            map.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
        }
        let mut worst = 0;
        let whom = [Some(Guesser::Address(ip)), user.map(Guesser::user)];
        for who in whom.into_iter().flatten() {
            let n = Self::current(&map, &who) + 1;
            map.insert(who, (n, Instant::now()));
            worst = worst.max(n);
        }
        Duration::from_millis(100u64 << (worst - 1).min(5))
    }

    /// `user` logged in: their own count is cleared, nobody else's (not
    /// the address's either).
    pub fn succeeded(&self, user: &str) {
        self.map().remove(&Guesser::user(user));
    }
}

/// The connections open from each client address, counted over all the
/// services of one host (see [`Policy::max_connections_per_address`]).
#[derive(Default)]
pub struct ClientConnections {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One counted connection; dropping it (the session is over) gives the
/// place back.
pub struct ConnectionSlot {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl ClientConnections {
    /// Count a new connection from `ip`; returns its slot and how many
    /// connections from `ip` are open now, this one included.
    pub fn open(&self, ip: IpAddr) -> (ConnectionSlot, usize) {
        let mut map = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_insert(0);
        *n += 1;
        let now = *n;
        (
            ConnectionSlot {
                open: self.open.clone(),
                ip,
            },
            now,
        )
    }

    /// Connections open from `ip` now.
    pub fn count(&self, ip: IpAddr) -> usize {
        let map = self.open.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut map = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Limits and switches of a host's servers.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Accept passwords in clear (no TLS): the eavesdropping lesson.
    pub plaintext_auth: bool,
    /// Relay for anyone to anywhere: the spam lesson.
    pub open_relay: bool,
    /// Largest message accepted (SMTP SIZE, RFC 1870).
    pub max_message: usize,
    /// Longest command line (RFC 5321 §4.5.3.1.4: 512 octets with CRLF;
    /// AUTH responses may be longer, §4.5.3.1.1 of RFC 4954 allows 12 288).
    pub max_command_line: usize,
    /// Longest text line of a message (RFC 5321 §4.5.3.1.6: 1000 octets).
    pub max_text_line: usize,
    pub max_recipients: usize,
    /// Commands in one session before the server hangs up.
    pub max_commands: usize,
    /// An SMTP client silent for this long is disconnected: RFC 5321
    /// §4.5.3.2.7 asks a server to wait at least 5 minutes for the next
    /// command.
    pub idle_timeout: Duration,
    /// The POP3 autologout timer: RFC 1939 §3, at least 10 minutes.
    pub pop3_idle_timeout: Duration,
    /// The IMAP autologout timer: RFC 3501 §5.4, at least 30 minutes,
    /// during IDLE too (RFC 2177 §3 has clients renew IDLE within 29).
    pub imap_idle_timeout: Duration,
    /// Largest IMAP literal (APPEND and others).
    pub max_literal: usize,
    /// A TLS handshake (implicit TLS on 465/993/995, or after STARTTLS and
    /// STLS) not finished within this time ends the connection: a client
    /// that opens one and says nothing must not hold a socket for ever.
    pub tls_handshake_timeout: Duration,
    /// A write that makes no progress for this long (the client reads
    /// none of its replies) ends the connection.
    pub write_timeout: Duration,
    /// Connections one client address may hold open at once, over all the
    /// services of the host; beyond it a client is refused with the
    /// protocol's "try again later" (SMTP 421, POP3 `-ERR [SYS/TEMP]`,
    /// IMAP `* BYE`), so one machine cannot use up the server's sockets.
    pub max_connections_per_address: usize,
    /// A logged-in user may send only from their own address (`serve
    /// --strict-sender`). Off by default: SMTP itself does not check
    /// MAIL FROM, which is the lesson on forged senders.
    pub strict_sender: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            plaintext_auth: false,
            open_relay: false,
            max_message: 10 * 1024 * 1024,
            max_command_line: 12_288,
            max_text_line: 1000,
            max_recipients: 100,
            max_commands: 10_000,
            idle_timeout: Duration::from_secs(5 * 60),
            pop3_idle_timeout: Duration::from_secs(10 * 60),
            imap_idle_timeout: Duration::from_secs(30 * 60),
            max_literal: 10 * 1024 * 1024,
            tls_handshake_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(60),
            // Like Postfix's smtpd_client_connection_count_limit (50): far
            // more than a user's mail programs open, far fewer than the
            // descriptors a process has.
            max_connections_per_address: 50,
            strict_sender: false,
        }
    }
}

impl Policy {
    /// The same idle timeout for the three protocols (`--idle-timeout`:
    /// a class that wants idle sessions to end sooner than the RFCs'
    /// minimums).
    pub fn set_idle_timeouts(&mut self, timeout: Duration) {
        self.idle_timeout = timeout;
        self.pop3_idle_timeout = timeout;
        self.imap_idle_timeout = timeout;
    }
}

/// Everything the servers of one host share.
pub struct Host {
    /// The host's name, as in greetings and `Received:` headers.
    pub name: String,
    /// Domains whose mail this host keeps (final delivery).
    pub domains: Vec<String>,
    pub accounts: Accounts,
    pub store: Arc<Store>,
    pub tls: Option<TlsAcceptor>,
    pub policy: Policy,
    pub recorder: Recorder,
    pub throttle: AuthThrottle,
    /// Connections open per client address.
    pub connections: ClientConnections,
    /// Print one line per session event on stderr (`serve`).
    pub log_sessions: bool,
}

impl Host {
    /// Bob's host `hamburger.edu` (password "hungry", no TLS) on `store`,
    /// for the servers' tests.
    #[cfg(test)]
    pub(crate) fn for_tests(store: Arc<Store>, policy: Policy) -> Arc<Host> {
        Arc::new(Host {
            name: "hamburger.edu".into(),
            domains: vec!["hamburger.edu".into()],
            accounts: Accounts::new(&[("bob", "hungry")]),
            store,
            tls: None,
            policy,
            recorder: Recorder::new(),
            throttle: AuthThrottle::default(),
            connections: ClientConnections::default(),
            log_sessions: false,
        })
    }

    /// Is `domain` one of ours (case-insensitive, RFC 5321 §2.4)?
    pub fn is_local_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// The local user an address delivers to, if it is ours and exists.
    /// `postmaster` (any case, at one of our domains or alone) always
    /// exists (RFC 5321 §4.5.1): it is the account of that name if there
    /// is one, else a mailbox of its own (`serve --user postmaster:PW`
    /// reads it).
    pub fn local_user(&self, address: &str) -> Option<String> {
        let local = match address.rsplit_once('@') {
            // The same reading of the domain as RCPT's (any case, a
            // trailing dot ignored).
            Some((local, _)) if self.is_local_domain(&domain_of(address)?) => local,
            Some(_) => return None,
            None if address.eq_ignore_ascii_case(POSTMASTER) => address,
            None => return None,
        };
        self.accounts
            .users()
            .find(|u| u.eq_ignore_ascii_case(local))
            .map(str::to_string)
            .or_else(|| {
                local
                    .eq_ignore_ascii_case(POSTMASTER)
                    .then(|| POSTMASTER.to_string())
            })
    }

    pub fn log(&self, what: std::fmt::Arguments<'_>) {
        if self.log_sessions {
            // One write per line: stderr is unbuffered, and `eprintln!`
            // would hand each formatted piece to the kernel separately, so
            // a reader of the log could see half a line.
            use std::io::Write;
            let line = format!("[{}] {what}\n", self.name);
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_responses_decode() {
        // "\0alice\0secret", the course's example.
        assert_eq!(
            decode_plain("AGFsaWNlAHNlY3JldA=="),
            Some(("alice".into(), "secret".into()))
        );
        assert_eq!(decode_plain("bm90IHBsYWlu"), None);
        assert_eq!(decode_plain("!!!"), None);
    }

    #[test]
    fn idle_timeouts_follow_the_rfcs() {
        let p = Policy::default();
        // RFC 5321 §4.5.3.2.7, RFC 1939 §3, RFC 3501 §5.4.
        assert_eq!(p.idle_timeout, Duration::from_secs(300));
        assert_eq!(p.pop3_idle_timeout, Duration::from_secs(600));
        assert_eq!(p.imap_idle_timeout, Duration::from_secs(1800));
        let mut q = p.clone();
        q.set_idle_timeouts(Duration::from_secs(7));
        assert_eq!(
            (q.idle_timeout, q.pop3_idle_timeout, q.imap_idle_timeout),
            (
                Duration::from_secs(7),
                Duration::from_secs(7),
                Duration::from_secs(7)
            )
        );
    }

    #[test]
    fn failures_lock_an_address_out() {
        let t = AuthThrottle::default();
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        assert_eq!(t.failed(ip, Some("bob")), Duration::from_millis(100));
        assert_eq!(t.failed(ip, Some("bob")), Duration::from_millis(200));
        for _ in 0..3 {
            t.failed(ip, None);
        }
        assert!(t.locked(ip, None));
        assert!(t.locked(ip, Some("alice")));
        assert!(!t.locked("127.0.0.8".parse().unwrap(), Some("bob")));
        // A success (alice's, or even bob's) does not clear the address.
        t.succeeded("alice");
        t.succeeded("bob");
        assert!(t.locked(ip, None));
    }

    #[test]
    fn failures_lock_a_user_out_from_any_address() {
        let t = AuthThrottle::default();
        for i in 0..AuthThrottle::USER_LOCKOUT_AFTER {
            // A new address each time: no address reaches its limit.
            let ip = IpAddr::from([127, 0, 1, i as u8]);
            t.failed(ip, Some(if i % 2 == 0 { "bob" } else { "Bob" }));
        }
        let fresh = IpAddr::from([127, 0, 2, 1]);
        assert!(t.locked(fresh, Some("bob")));
        assert!(!t.locked(fresh, Some("alice")));
        assert!(!t.locked(fresh, None));
        // Alice's success leaves bob's count alone; bob's own clears it.
        t.succeeded("alice");
        assert!(t.locked(fresh, Some("BOB")));
        t.succeeded("bob");
        assert!(!t.locked(fresh, Some("bob")));
    }
}

/// HMAC-MD5 (RFC 2104), the keyed digest of CRAM-MD5 (RFC 2195):
/// `MD5((K ^ opad) || MD5((K ^ ipad) || text))` with a 64-byte block.
pub fn hmac_md5(key: &[u8], text: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..16].copy_from_slice(&Md5::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Md5::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(text);
    let mut outer = Md5::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod hmac_tests {
    #[test]
    fn rfc_2195_example() {
        // RFC 2195 §2: tim / tanstaaftanstaaf.
        let d = super::hmac_md5(
            b"tanstaaftanstaaf",
            b"<1896.697170952@postoffice.reston.mci.net>",
        );
        assert_eq!(crate::mail::hex(&d), "b913a602c7eda7a495b4e6e7334d3890");
    }
}
