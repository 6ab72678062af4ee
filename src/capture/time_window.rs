//! `--since` / `--until`: the packets of a stretch of time.
//!
//! Like editcap's `-A` and `-B`, `since` keeps packets on or after the
//! moment and `until` those strictly before it, so two runs split at one
//! moment share no packet. A moment is written as RFC 3339 says
//! (§5.6: `2026-12-07T05:28:22Z`, `2026-12-07T06:28:22.5+01:00`; a space may
//! stand for the `T`, as its note allows) or as seconds since the Unix
//! epoch (`1796621302`, `1796621302.25`), the form of `first_ts` in the
//! JSON output. A date and time without a zone is read as UTC.

use thiserror::Error;

use super::Timestamp;
use super::civil_time::{days_from_civil, days_in_month};

/// The packets whose time falls in `[since, until)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeWindow {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl TimeWindow {
    /// True when the window keeps every packet.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    pub fn contains(&self, ts: Timestamp) -> bool {
        self.since.is_none_or(|s| ts >= s) && self.until.is_none_or(|u| ts < u)
    }
}

/// A moment that is neither RFC 3339 nor epoch seconds.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error(
    "'{text}' is not a moment: {why} (write 2026-12-07T05:28:22Z, 2026-12-07T06:28:22+01:00 or epoch seconds such as 1796621302.5)"
)]
pub struct MomentError {
    pub text: String,
    pub why: &'static str,
}

/// Reads a moment (see the module's comment).
pub fn parse_moment(text: &str) -> Result<Timestamp, MomentError> {
    let fail = |why| MomentError {
        text: text.to_string(),
        why,
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(fail("it is empty"));
    }
    let nanos = if t.len() > 4 && t.as_bytes()[4] == b'-' {
        rfc3339(t).map_err(fail)?
    } else {
        epoch_seconds(t).map_err(fail)?
    };
    Ok(Timestamp::from_nanos(nanos))
}

/// `1796621302`, `1796621302.25`, `-1.5`.
fn epoch_seconds(t: &str) -> Result<i64, &'static str> {
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err("epoch seconds are digits, with an optional fraction");
    }
    let fraction = fraction_nanos(fraction).ok_or("the fraction after the point is digits")?;
    let secs: i64 = whole.parse().map_err(|_| "too far from 1970")?;
    let nanos = secs
        .checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(fraction))
        .ok_or("too far from 1970")?;
    Ok(if negative { -nanos } else { nanos })
}

/// The nanoseconds of the digits after a decimal point (at most 9 count).
fn fraction_nanos(fraction: &str) -> Option<i64> {
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos = 0i64;
    for (i, b) in fraction.bytes().take(9).enumerate() {
        nanos += (b - b'0') as i64 * 10i64.pow(8 - i as u32);
    }
    Some(nanos)
}

/// RFC 3339 §5.6 date-time: full-date "T" partial-time [time-offset],
/// as nanoseconds since the epoch (also read by `report::ecs`).
pub(crate) fn rfc3339(t: &str) -> Result<i64, &'static str> {
    let b = t.as_bytes();
    let number = |from: usize, len: usize| -> Result<i64, &'static str> {
        let digits = b.get(from..from + len).ok_or("it ends too soon")?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err("a date is YYYY-MM-DD and a time HH:MM:SS");
        }
        Ok(digits.iter().fold(0, |n, d| n * 10 + (d - b'0') as i64))
    };
    let sep = |at: usize, allowed: &[u8]| -> Result<(), &'static str> {
        match b.get(at) {
            Some(c) if allowed.contains(c) => Ok(()),
            _ => Err("a date is YYYY-MM-DD and a time HH:MM:SS"),
        }
    };
    let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
    sep(4, b"-")?;
    sep(7, b"-")?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month as u32) as i64 {
        return Err("no such day");
    }
    let days = days_from_civil(year, month as u32, day as u32);
    if b.len() == 10 {
        // A date alone: its midnight, UTC.
        return Ok(days * 86_400 * 1_000_000_000);
    }
    sep(10, b"Tt ")?;
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    sep(13, b":")?;
    sep(16, b":")?;
    // §5.6 allows a leap second (60); it is read as the next second's start.
    if hour > 23 || minute > 59 || second > 60 {
        return Err("no such time of day");
    }
    let mut rest = &t[19..];
    let mut nanos = 0;
    if let Some(after_point) = rest.strip_prefix('.') {
        let len = after_point.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return Err("a decimal point needs digits after it");
        }
        nanos = fraction_nanos(&after_point[..len]).ok_or("bad fraction")?;
        rest = &after_point[len..];
    }
    let offset_secs = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let o = rest.as_bytes();
            let sign = match o[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err("the zone is Z or +HH:MM / -HH:MM"),
            };
            if o.len() != 6 || o[3] != b':' {
                return Err("the zone is Z or +HH:MM / -HH:MM");
            }
            let digits = |s: &[u8]| -> Result<i64, &'static str> {
                if s.iter().all(u8::is_ascii_digit) {
                    Ok(s.iter().fold(0, |n, d| n * 10 + (d - b'0') as i64))
                } else {
                    Err("the zone is Z or +HH:MM / -HH:MM")
                }
            };
            let (h, m) = (digits(&o[1..3])?, digits(&o[4..6])?);
            if h > 23 || m > 59 {
                return Err("no such zone offset");
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    secs.checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(nanos))
        .ok_or("too far from 1970")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(t: &str) -> f64 {
        parse_moment(t).unwrap().as_secs_f64()
    }

    #[test]
    fn rfc3339_moments() {
        assert_eq!(secs("2026-12-07T05:28:22Z"), 1_796_621_302.0);
        assert_eq!(secs("2026-12-07t05:28:22z"), 1_796_621_302.0);
        assert_eq!(secs("2026-12-07 06:28:22+01:00"), 1_796_621_302.0);
        assert_eq!(secs("2026-12-07T00:28:22-05:00"), 1_796_621_302.0);
        assert_eq!(secs("2026-12-07T05:28:22"), 1_796_621_302.0);
        assert_eq!(secs("2026-12-07"), 1_796_601_600.0);
        assert_eq!(
            parse_moment("1970-01-01T00:00:01.123456789123Z")
                .unwrap()
                .as_nanos(),
            1_123_456_789
        );
        assert_eq!(secs("1969-12-31T23:59:59Z"), -1.0);
    }

    #[test]
    fn epoch_moments() {
        assert_eq!(
            parse_moment("1796621302").unwrap().as_nanos(),
            1_796_621_302_000_000_000
        );
        assert_eq!(parse_moment("1.25").unwrap().as_nanos(), 1_250_000_000);
        assert_eq!(parse_moment("-1.5").unwrap().as_nanos(), -1_500_000_000);
        assert_eq!(parse_moment(" 7 ").unwrap().as_nanos(), 7_000_000_000);
    }

    #[test]
    fn what_is_not_a_moment() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-29",
            "2026-12-07T25:00:00Z",
            "2026-12-07T05:28",
            "2026-12-07T05:28:22+0100",
            "2026-12-07T05:28:22.Z",
            "2026/12/07",
            "1e9",
            "99999999999999999999",
            "1.2.3",
        ] {
            let e = parse_moment(bad).unwrap_err();
            assert!(e.to_string().contains("is not a moment"), "{bad}: {e}");
        }
        assert_eq!(secs("2024-02-29"), 1_709_164_800.0);
    }

    #[test]
    fn the_window_keeps_since_and_drops_until() {
        let w = TimeWindow {
            since: Some(Timestamp::from_nanos(10)),
            until: Some(Timestamp::from_nanos(20)),
        };
        assert!(!w.contains(Timestamp::from_nanos(9)));
        assert!(w.contains(Timestamp::from_nanos(10)));
        assert!(w.contains(Timestamp::from_nanos(19)));
        assert!(!w.contains(Timestamp::from_nanos(20)));
        assert!(TimeWindow::default().contains(Timestamp::from_nanos(i64::MIN)));
    }
}
