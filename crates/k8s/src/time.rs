//! Kubernetes `meta/v1.Time`: seconds and nanos on the wire, RFC 3339 for people.
//!
//! Kubernetes writes a zero `Time` as an empty message and renders it as `null`; anything else
//! is shown the way the API server shows it (`2024-01-02T03:04:05Z`, UTC). The conversion is a
//! few lines of calendar arithmetic, so no date crate is needed; JSON-stored objects carry the
//! same field as text, which [`Time::parse_rfc3339`] reads back.

use serde::{Serialize, Serializer};

use crate::wire::{Fields, WireError, WireValue};

/// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range RFC 3339 can show.
pub(crate) const MIN_SECONDS: i64 = -62_135_596_800;
pub(crate) const MAX_SECONDS: i64 = 253_402_300_799;

/// A point in time as Kubernetes stores it (`meta/v1.Time` / `MicroTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    /// Seconds since the Unix epoch (UTC).
    pub seconds: i64,
    /// Nanoseconds within the second; Kubernetes' `Time` always writes 0.
    pub nanos: i32,
}

impl Time {
    /// Reads a `Time` message. An empty message is Kubernetes' zero time, returned as `None`.
    pub fn decode(bytes: &[u8]) -> Result<Option<Self>, WireError> {
        if bytes.is_empty() {
            return Ok(None);
        }
        let mut t = Self {
            seconds: 0,
            nanos: 0,
        };
        for field in Fields::new(bytes) {
            let field = field?;
            match (field.number, field.value) {
                (1, WireValue::Varint(v)) => t.seconds = v as i64, // int64: two's complement
                (2, WireValue::Varint(v)) => t.nanos = v as i32, // int32: sign-extended on the wire
                _ => {}
            }
        }
        Ok(Some(t))
    }

    /// Renders as RFC 3339 in UTC (`2024-01-02T03:04:05Z`, with a fraction only when `nanos` is
    /// not zero). `None` when the time lies outside years 1..=9999 or `nanos` is out of range.
    pub fn to_rfc3339(&self) -> Option<String> {
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&self.seconds)
            || !(0..1_000_000_000).contains(&self.nanos)
        {
            return None;
        }
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut out = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        out.push('Z');
        Some(out)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as found in JSON-stored objects.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let digits = b.get(r)?;
            digits.iter().try_fold(0i64, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
            })
        };
        let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || !(1..=days_in_month(year, month)).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut pos = 19;
        let mut nanos: i64 = 0;
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let digits = b
                .get(pos..)?
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits == 0 {
                return None;
            }
            // Nanosecond precision: further digits are read but ignored.
            for i in 0..9 {
                let digit = if i < digits {
                    num(pos + i..pos + i + 1)?
                } else {
                    0
                };
                nanos = nanos * 10 + digit;
            }
            pos += digits;
        }
        let offset = match b.get(pos..)? {
            b"Z" | b"z" => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (h, m) = (num(pos + 1..pos + 3)?, num(pos + 4..pos + 6)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let off = h * 3600 + m * 60;
                if *sign == b'-' { -off } else { off }
            }
            _ => return None,
        };
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
                - offset;
        Some(Self {
            seconds,
            nanos: nanos as i32,
        })
    }
}

impl Serialize for Time {
    /// RFC 3339 text when representable, otherwise `{"seconds": s, "nanos": n}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_rfc3339() {
            Some(text) => s.serialize_str(&text),
            None => {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct("Time", 2)?;
                st.serialize_field("seconds", &self.seconds)?;
                st.serialize_field("nanos", &self.nanos)?;
                st.end()
            }
        }
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
/// Callers keep `days` within years 1..=9999, so nothing here can overflow.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The inverse of [`civil_from_days`]; inputs are 4-digit years, so no overflow.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> Time {
        Time { seconds, nanos: 0 }
    }

    #[test]
    fn renders_like_kubernetes() {
        assert_eq!(t(0).to_rfc3339().unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            t(1_735_689_611).to_rfc3339().unwrap(),
            "2025-01-01T00:00:11Z"
        );
        assert_eq!(
            t(1_704_164_645).to_rfc3339().unwrap(),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(t(951_782_400).to_rfc3339().unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(t(MIN_SECONDS).to_rfc3339().unwrap(), "0001-01-01T00:00:00Z");
        assert_eq!(t(MAX_SECONDS).to_rfc3339().unwrap(), "9999-12-31T23:59:59Z");
        assert_eq!(t(-1).to_rfc3339().unwrap(), "1969-12-31T23:59:59Z");
        assert_eq!(t(MAX_SECONDS + 1).to_rfc3339(), None);
        assert_eq!(t(i64::MIN).to_rfc3339(), None);
        let frac = Time {
            seconds: 0,
            nanos: 120_000_000,
        };
        assert_eq!(frac.to_rfc3339().unwrap(), "1970-01-01T00:00:00.12Z");
        assert_eq!(
            Time {
                seconds: 0,
                nanos: -1
            }
            .to_rfc3339(),
            None
        );
        assert_eq!(
            serde_json::to_string(&t(i64::MAX)).unwrap(),
            r#"{"seconds":9223372036854775807,"nanos":0}"#
        );
    }

    #[test]
    fn parses_and_round_trips() {
        for s in [
            0,
            1_735_689_611,
            -1,
            MIN_SECONDS,
            MAX_SECONDS,
            951_782_400,
            4_107_542_399,
        ] {
            let text = t(s).to_rfc3339().unwrap();
            assert_eq!(Time::parse_rfc3339(&text), Some(t(s)), "{text}");
        }
        assert_eq!(
            Time::parse_rfc3339("2025-01-01T01:00:11+01:00"),
            Some(t(1_735_689_611))
        );
        assert_eq!(
            Time::parse_rfc3339("1970-01-01T00:00:00.5Z"),
            Some(Time {
                seconds: 0,
                nanos: 500_000_000
            })
        );
        for bad in [
            "",
            "2025-13-01T00:00:00Z",
            "2025-02-30T00:00:00Z",
            "2025-01-01",
            "2025-01-01T00:00:00",
            "2025-01-01T00:00:00.Z",
            "2025-01-01T00:00:00+1:00",
            "２０２５-01-01T00:00:00Z",
        ] {
            assert_eq!(Time::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn decodes_messages() {
        assert_eq!(Time::decode(&[]), Ok(None));
        assert_eq!(
            Time::decode(&[0x08, 0x8b, 0x8b, 0xd2, 0xbb, 0x06]),
            Ok(Some(t(1_735_689_611)))
        );
        // seconds = -1 as a 10-byte varint, nanos = 0 written explicitly (as Go writes it)
        let neg = [
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x10, 0x00,
        ];
        assert_eq!(Time::decode(&neg), Ok(Some(t(-1))));
        assert!(Time::decode(&[0x08]).is_err());
    }
}
