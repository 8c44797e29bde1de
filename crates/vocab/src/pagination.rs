//! Keyset pagination over `(created_at DESC, id DESC)`, with opaque cursors.

use crate::error_code::ErrorCode;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A page request the service cannot answer: a limit out of range or a cursor it did not
/// make. Answered as 400 with its code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct BadPage {
    pub code: ErrorCode,
    pub detail: String,
}

impl BadPage {
    fn bad_request(code: ErrorCode, detail: impl Into<String>) -> Self {
        BadPage {
            code,
            detail: detail.into(),
        }
    }
}

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// Where the previous page stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<Cursor>,
    pub limit: u32,
}

impl PageQuery {
    pub fn parse(&self) -> Result<PageRequest, BadPage> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(BadPage::bad_request(
                ErrorCode::InvalidQuery,
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = given(self.cursor.as_deref())
            .map(Cursor::decode)
            .transpose()?;
        Ok(PageRequest { after, limit })
    }
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}|{}",
            self.created_at.timestamp_micros(),
            self.id
        ))
    }

    pub fn decode(text: &str) -> Result<Self, BadPage> {
        let invalid = || {
            BadPage::bad_request(
                ErrorCode::InvalidCursor,
                "the cursor is not one this API issued",
            )
        };
        let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let raw = String::from_utf8(raw).map_err(|_| invalid())?;
        let (micros, id) = raw.split_once('|').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        Ok(Cursor {
            created_at: DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?,
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

/// A cursor as a query gives it: `?cursor=` (empty) asks for the first page, as no cursor does,
/// since clients that build URLs from a null `next_cursor` send exactly that.
pub fn given(cursor: Option<&str>) -> Option<&str> {
    cursor.filter(|c| !c.is_empty())
}

/// An opaque cursor over an offset, for orders that are not keyset-friendly (rankings).
pub fn encode_offset(offset: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset|{offset}"))
}

pub fn decode_offset(text: &str) -> Result<i64, BadPage> {
    let invalid = || {
        BadPage::bad_request(
            ErrorCode::InvalidCursor,
            "the cursor is not one this API issued",
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    raw.strip_prefix("offset|")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(invalid)
}

/// Every list answers with this envelope.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each item converted.
    pub fn try_map<U, E>(self, convert: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(convert)
                .collect::<Result<_, _>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

/// Rows listed newest first carry their own cursor.
pub trait Keyed {
    fn cursor(&self) -> Cursor;
}

macro_rules! keyed_by_creation {
    ($($type:ty),+) => {
        $(impl Keyed for $type {
            fn cursor(&self) -> Cursor {
                Cursor { created_at: self.created_at, id: self.id }
            }
        })+
    };
}
keyed_by_creation!(
    crate::domain::asset::Asset,
    crate::domain::cloned_voice::ClonedVoice,
    crate::domain::project::Project,
    crate::domain::job::Job,
    crate::domain::resource::StepResource,
    crate::domain::run::Run,
    crate::domain::watchlist::Watchlist,
    crate::domain::watchlist::Alert
);

impl<T: Keyed> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only proves there is a next page.
    pub fn from_rows(rows: Vec<T>, limit: u32) -> Self {
        Self::from_rows_by(rows, limit, T::cursor)
    }
}

impl<T> Page<T> {
    pub fn from_rows_by(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> Cursor) -> Self {
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|last| key(last).encode())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = Cursor {
            created_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in [
            "",
            "!!!",
            "bm90LWEtY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("12|not-a-uuid"),
        ] {
            assert_eq!(
                Cursor::decode(bad).unwrap_err().code,
                ErrorCode::InvalidCursor,
                "{bad}"
            );
        }
    }

    #[test]
    fn page_keeps_limit_items_and_points_past_the_last() {
        let at = |i: i64| Cursor {
            created_at: DateTime::from_timestamp_micros(i).unwrap(),
            id: Uuid::nil(),
        };
        let page = Page::from_rows_by(vec![3, 2, 1], 2, |&i| at(i));
        assert_eq!(page.items, vec![3, 2]);
        assert_eq!(
            Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap(),
            at(2)
        );
        assert!(Page::from_rows_by(vec![1], 2, |&i| at(i))
            .next_cursor
            .is_none());
    }
}
