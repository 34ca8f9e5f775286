//! Questions the daybook answers, bounded before they read: a household's or the community's
//! totals for each day of a period (at most [`MAX_DAYS`]), and a household's records of a period,
//! a page of at most [`MAX_RECORDS`] at a time.

use super::entries::Located;
use super::index::{self, Role};
use super::totals::DayTotals;
use super::Daybook;
use crate::primitives::Address;
use crate::state::StoreError;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Days one question may span.
pub const MAX_DAYS: usize = 400;
/// Records in one page.
pub const MAX_RECORDS: usize = 5000;
/// Intervals one answer holds at most: a day of 10 s intervals (the community chart asks for
/// the last 24 h; communities meter every 15 min, tests and demos compress time).
pub const MAX_INTERVALS: usize = 8640;

/// Why a question has no answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The question is malformed or too large.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A calendar day, written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(jiff::civil::Date);

impl std::str::FromStr for Date {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || QueryError::Invalid(format!("invalid date {s:?}: expected YYYY-MM-DD"));
        if s.len() != 10 {
            return Err(bad());
        }
        let date: jiff::civil::Date = s.parse().map_err(|_| bad())?;
        if date.year() < 1970 {
            return Err(bad());
        }
        Ok(Self(date))
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Date {
    fn number(&self) -> u32 {
        let d = self.0;
        d.year() as u32 * 10_000 + d.month() as u32 * 100 + d.day() as u32
    }

    /// The first second of this day in `zone`, unix s.
    fn start(&self, zone: &TimeZone) -> Result<u64, QueryError> {
        let zoned =
            self.0.to_zoned(zone.clone()).map_err(|e| QueryError::Invalid(e.to_string()))?;
        Ok(zoned.timestamp().as_second().max(0) as u64)
    }

    fn next(&self) -> Result<Self, QueryError> {
        self.0.tomorrow().map(Self).map_err(|e| QueryError::Invalid(e.to_string()))
    }
}

/// The local day (yyyymmdd) of unix time `unix` in `zone`.
pub(super) fn day_number(zone: &TimeZone, unix: u64) -> u32 {
    let at = Timestamp::from_second(unix.min(i64::MAX as u64) as i64).unwrap_or(Timestamp::MAX);
    let date = zone.to_datetime(at).date();
    Date(date).number()
}

/// Checks `from..=to` and returns its days.
fn days_between(from: Date, to: Date) -> Result<Vec<Date>, QueryError> {
    if to < from {
        return Err(QueryError::Invalid(format!(
            "the period ends ({to}) before it starts ({from})"
        )));
    }
    let mut days = vec![from];
    let mut day = from;
    while day < to {
        if days.len() == MAX_DAYS {
            return Err(QueryError::Invalid(format!("at most {MAX_DAYS} days per question")));
        }
        day = day.next()?;
        days.push(day);
    }
    Ok(days)
}

/// One page of a household's records.
#[derive(Debug, Clone)]
pub struct RecordPage {
    /// Records, in time order, with what each is to the household.
    pub records: Vec<(Role, Located)>,
    /// Where the next page starts (pass it back as `after`), if there is more.
    pub next: Option<String>,
}

impl Daybook {
    /// The totals of `meter` (the community's when `None`) for each day of `from..=to`.
    pub fn days(
        &self,
        meter: Option<&Address>,
        from: Date,
        to: Date,
    ) -> Result<Vec<(Date, DayTotals)>, QueryError> {
        let mut out = Vec::new();
        for day in days_between(from, to)? {
            let key = match meter {
                Some(m) => index::day_key(m, day.number()),
                None => index::community_key(day.number()),
            };
            let totals = match self.store().aux_get(&key)? {
                Some(raw) => DayTotals::decode(&raw).map_err(|e| index::corrupt(&key, e))?,
                None => DayTotals::default(),
            };
            out.push((day, totals));
        }
        Ok(out)
    }

    /// The community's production, consumption and readings per interval, for the intervals
    /// ending in `from..=to` (unix s) that had readings, oldest first, at most [`MAX_INTERVALS`]
    /// (the newest of them when more).
    pub fn intervals(&self, from: u64, to: u64) -> Result<Vec<(u64, DayTotals)>, QueryError> {
        if from > to {
            return Err(QueryError::Invalid(format!("from {from} is after to {to}")));
        }
        let start = index::interval_key(from);
        let end = match to.checked_add(1) {
            Some(after) => index::interval_key(after),
            None => [b"daybook/i/".as_slice(), &[0xff; 9]].concat(),
        };
        self.intervals_in(&start, &end, MAX_INTERVALS)
    }

    /// The last `limit` interval totals with keys in `[start, end)`, oldest first.
    fn intervals_in(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(u64, DayTotals)>, QueryError> {
        let mut found = self.store().aux_range_last(start, end, limit)?;
        found.reverse();
        found
            .into_iter()
            .map(|(key, value)| {
                let end = key
                    .get(key.len().saturating_sub(8)..)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_be_bytes)
                    .ok_or_else(|| index::corrupt(&key, "interval key"))?;
                let totals = DayTotals::decode(&value).map_err(|e| index::corrupt(&key, e))?;
                Ok((end, totals))
            })
            .collect()
    }

    /// The end of the newest interval any reading was indexed for.
    pub fn newest_interval(&self) -> Result<Option<u64>, QueryError> {
        let start = index::interval_key(0);
        let end = [b"daybook/i/".as_slice(), &[0xff; 9]].concat();
        Ok(self.intervals_in(&start, &end, 1)?.pop().map(|(end, _)| end))
    }

    /// `meter`'s readings, sales and purchases in `from..=to` (local days), a page of at most
    /// `limit` (≤ [`MAX_RECORDS`]) starting after `after` (a previous page's `next`).
    pub fn records(
        &self,
        meter: &Address,
        from: Date,
        to: Date,
        after: Option<&str>,
        limit: usize,
    ) -> Result<RecordPage, QueryError> {
        days_between(from, to)?;
        let prefix = index::record_prefix(meter);
        let start = [prefix.as_slice(), &from.start(self.zone())?.to_be_bytes()].concat();
        let end = [prefix.as_slice(), &to.next()?.start(self.zone())?.to_be_bytes()].concat();
        let start = match after {
            Some(cursor) => {
                let bad = || QueryError::Invalid(format!("invalid page cursor {cursor:?}"));
                let suffix = hex::decode(cursor.trim_start_matches("0x")).map_err(|_| bad())?;
                if suffix.len() != 21 {
                    return Err(bad());
                }
                let key = [prefix.as_slice(), &suffix, &[0]].concat();
                key.max(start)
            }
            None => start,
        };
        let limit = limit.clamp(1, MAX_RECORDS);
        let found = self.store().aux_range(&start, &end, limit + 1)?;
        let more = found.len() > limit;
        let mut records = Vec::with_capacity(found.len().min(limit));
        let mut last = None;
        for (key, value) in found.into_iter().take(limit) {
            let role = index::role_of(&key).ok_or_else(|| index::corrupt(&key, "role"))?;
            records.push((role, Located::decode(&value).map_err(|e| index::corrupt(&key, e))?));
            last = Some(key);
        }
        let next = match (more, last) {
            (true, Some(key)) => Some(format!("0x{}", hex::encode(&key[prefix.len()..]))),
            _ => None,
        };
        Ok(RecordPage { records, next })
    }
}
