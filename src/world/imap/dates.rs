//! IMAP dates (RFC 3501 §9: date, date-time): INTERNALDATE in FETCH, the
//! dates of SEARCH and the date-time of APPEND, on the day numbers of
//! `capture::civil_time`.

use crate::capture::civil_time::civil_from_days;
pub(super) use crate::capture::civil_time::days_from_civil;

/// The month names of IMAP dates (§9: date-month).
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// INTERNALDATE: `"17-Jul-1996 02:44:25 +0000"`, always in UTC here.
pub(super) fn internal_date(secs: i64) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{d:2}-{}-{y:04} {:02}:{:02}:{:02} +0000",
        MONTHS[(m - 1) as usize],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// A search date, `1-Feb-1994`, as a day number.
pub(super) fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().split('-');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || d.is_empty() || d.len() > 2 || y.len() != 4 {
        return None;
    }
    let day: u32 = d.parse().ok().filter(|d| (1..=31).contains(d))?;
    let month = MONTHS.iter().position(|n| n.eq_ignore_ascii_case(m))? as u32 + 1;
    let year: i64 = y.parse().ok()?;
    Some(days_from_civil(year, month, day))
}

/// An APPEND date-time, `17-Jul-1996 02:44:25 -0700`, as Unix seconds.
pub(super) fn parse_date_time(text: &str) -> Option<i64> {
    let mut parts = text.trim().split(' ').filter(|p| !p.is_empty());
    let (date, time, zone) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let day = parse_date(date)?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse::<i64>().ok().filter(|_| p.len() == 2))
        .collect::<Option<_>>()?;
    let [h, m, s] = hms[..] else { return None };
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let zh: i64 = digits[..2].parse().ok()?;
    let zm: i64 = digits[2..].parse().ok()?;
    Some(day * 86_400 + h * 3600 + m * 60 + s - sign * (zh * 3600 + zm * 60))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::T1;
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(internal_date(0), " 1-Jan-1970 00:00:00 +0000");
        assert_eq!(internal_date(T1), " 1-Dec-2025 10:00:00 +0000");
        assert_eq!(parse_date("1-Feb-1994"), Some(days_from_civil(1994, 2, 1)));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(parse_date("31-Foo-1994"), None);
        assert_eq!(
            parse_date_time("17-Jul-1996 02:44:25 -0700"),
            Some(837_596_665)
        );
        assert_eq!(
            parse_date_time(" 7-Jul-1996 02:44:25 +0000"),
            Some(836_707_465)
        );
        assert_eq!(parse_date_time("17-Jul-1996 02:44 -0700"), None);
    }
}
