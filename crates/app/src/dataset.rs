//! Dataset exports (a JSON array of items, or JSON lines) read a piece at a time: the
//! [`Splitter`] finds where each item starts and ends without parsing it, so an import of any
//! size holds one item and one read buffer at a time, never the whole file.

use futures::StreamExt;
use uuid::Uuid;

use crate::{
    config::CollectSettings, error::AppError, error_code::ErrorCode, media::Provisional,
    state::AppState,
};

pub use crate::domain::job::Format;

/// The format a request's `Content-Type` (without parameters, lowercase) names.
pub fn format_of_content_type(content_type: &str) -> Result<Format, AppError> {
    match content_type {
        "application/json" => Ok(Format::Array),
        "application/x-ndjson" | "application/jsonl" | "application/json-lines"
        | "application/jsonlines" => Ok(Format::Lines),
        other => Err(AppError::UnsupportedMediaType(format!(
            "send the dataset as application/json (an array) or application/x-ndjson (JSON lines), not `{other}`"
        ))),
    }
}

/// One item's bytes, unparsed, with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawItem {
    pub line: u64,
    pub bytes: Vec<u8>,
    /// Longer than the splitter's item limit: `bytes` holds only its start.
    pub oversized: bool,
}

/// Why a file is not a dataset at all (as opposed to one bad item in it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("line {0}: expected a JSON array of items (`[`)")]
    NotAnArray(u64),
    #[error("line {0}: nothing may follow the array's closing `]`")]
    TrailingData(u64),
    #[error("the array ends before its closing `]`")]
    Unterminated,
}

impl From<FramingError> for AppError {
    fn from(error: FramingError) -> Self {
        AppError::bad_request(ErrorCode::MalformedJson, error.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the array's `[` (arrays only).
    Start,
    /// Between items: whitespace, or (arrays) a `,` or the closing `]`.
    Between,
    Item,
    /// After the array's `]` (arrays only).
    End,
}

/// Cuts a stream of bytes into items. For arrays it follows strings (with escapes) and the
/// nesting of brackets, so commas and brackets inside an item never end it; what is inside an
/// item is left to the JSON parser, which reports it against the item's line.
#[derive(Debug)]
pub struct Splitter {
    format: Format,
    state: State,
    max_item_bytes: usize,
    line: u64,
    item: Vec<u8>,
    item_line: u64,
    oversized: bool,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// How much of a UTF-8 byte order mark the file started with (skipped), up to its length
    /// once anything else came.
    bom: usize,
    /// An array item was followed by `,`, so another must come before `]`.
    expecting: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Splitter {
    pub fn new(format: Format, max_item_bytes: usize) -> Self {
        Splitter {
            format,
            state: match format {
                Format::Array => State::Start,
                Format::Lines => State::Between,
            },
            max_item_bytes,
            line: 1,
            item: Vec::new(),
            item_line: 1,
            oversized: false,
            depth: 0,
            in_string: false,
            escaped: false,
            bom: 0,
            expecting: false,
        }
    }

    /// Feeds the next bytes; every item they complete goes to `emit`, in order.
    pub fn feed(
        &mut self,
        mut chunk: &[u8],
        emit: &mut impl FnMut(RawItem),
    ) -> Result<(), FramingError> {
        while self.bom < BOM.len() && !chunk.is_empty() {
            if chunk[0] == BOM[self.bom] {
                self.bom += 1;
                chunk = &chunk[1..];
            } else {
                self.bom = BOM.len();
            }
        }
        match self.format {
            Format::Lines => {
                self.feed_lines(chunk, emit);
                Ok(())
            }
            Format::Array => self.feed_array(chunk, emit),
        }
    }

    /// Ends the stream: the last line needs no newline; an array must have been closed.
    pub fn finish(&mut self, emit: &mut impl FnMut(RawItem)) -> Result<(), FramingError> {
        match self.format {
            Format::Lines => {
                if self.state == State::Item {
                    self.emit(emit);
                }
                Ok(())
            }
            Format::Array if self.state == State::End => Ok(()),
            Format::Array if self.state == State::Start => Err(FramingError::NotAnArray(self.line)),
            Format::Array => Err(FramingError::Unterminated),
        }
    }

    fn push(&mut self, byte: u8) {
        if self.item.len() < self.max_item_bytes {
            self.item.push(byte);
        } else {
            self.oversized = true;
        }
    }

    fn emit(&mut self, emit: &mut impl FnMut(RawItem)) {
        emit(RawItem {
            line: self.item_line,
            bytes: std::mem::take(&mut self.item),
            oversized: std::mem::take(&mut self.oversized),
        });
        self.state = State::Between;
    }

    fn feed_lines(&mut self, chunk: &[u8], emit: &mut impl FnMut(RawItem)) {
        for &byte in chunk {
            match byte {
                b'\n' => {
                    if self.state == State::Item {
                        self.emit(emit);
                    }
                    self.line += 1;
                }
                b' ' | b'\t' | b'\r' if self.state == State::Between => {}
                _ => {
                    if self.state == State::Between {
                        self.state = State::Item;
                        self.item_line = self.line;
                    }
                    self.push(byte);
                }
            }
        }
    }

    fn feed_array(
        &mut self,
        chunk: &[u8],
        emit: &mut impl FnMut(RawItem),
    ) -> Result<(), FramingError> {
        for &byte in chunk {
            let whitespace = matches!(byte, b' ' | b'\t' | b'\r' | b'\n');
            match self.state {
                State::Start if whitespace => {}
                State::Start if byte == b'[' => self.state = State::Between,
                State::Start => return Err(FramingError::NotAnArray(self.line)),
                State::End if whitespace => {}
                State::End => return Err(FramingError::TrailingData(self.line)),
                State::Between if whitespace => {}
                State::Between if byte == b']' && !self.expecting => self.state = State::End,
                State::Between if byte == b',' || byte == b']' => {
                    // An empty place (`[1,,2]`, `[1,]`) is an item the parser will refuse, so it
                    // is reported with its line like any other bad item.
                    self.item_line = self.line;
                    self.emit(emit);
                    self.expecting = byte == b',';
                    if byte == b']' {
                        self.state = State::End;
                    }
                }
                State::Between => {
                    self.state = State::Item;
                    self.item_line = self.line;
                    self.expecting = false;
                    self.scan(byte);
                    self.push(byte);
                }
                State::Item if self.in_string || self.depth > 0 => {
                    self.scan(byte);
                    self.push(byte);
                }
                State::Item if byte == b',' || byte == b']' => {
                    self.emit(emit);
                    self.expecting = byte == b',';
                    if byte == b']' {
                        self.state = State::End;
                    }
                }
                State::Item => {
                    self.scan(byte);
                    self.push(byte);
                }
            }
            if byte == b'\n' {
                self.line += 1;
            }
        }
        Ok(())
    }

    /// Follows strings and nesting inside an array item.
    fn scan(&mut self, byte: u8) {
        if self.in_string {
            match byte {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => self.in_string = false,
                _ => {}
            }
            return;
        }
        match byte {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// A dataset file saved where the collection's job will read it, with its item count.
#[must_use = "dropping it removes the file"]
pub struct Spooled {
    pub file: Provisional,
    pub format: Format,
    pub items: u64,
}

/// Saves a request's dataset to the media store as it arrives, checking its framing and
/// counting its items on the way, so a body that is not a dataset, too large or with too many
/// items is refused before anything is queued (and nothing of it is kept).
pub async fn spool<S>(
    state: &AppState,
    project_id: Uuid,
    format: Format,
    body: S,
    limits: &CollectSettings,
) -> Result<Spooled, AppError>
where
    S: futures::Stream<Item = Result<bytes::Bytes, AppError>> + Unpin,
{
    let mut splitter = Splitter::new(format, 0);
    let mut items: u64 = 0;
    let too_many = || {
        AppError::validation(
            "items",
            format!("give 1 to {} items", limits.max_import_items),
        )
    };
    let checked = body.map(|chunk| {
        let chunk = chunk?;
        splitter.feed(&chunk, &mut |_| items += 1)?;
        if items > limits.max_import_items {
            return Err(too_many());
        }
        Ok(chunk)
    });
    let scratch = crate::collections::write_upload(state, checked, limits.max_import_bytes).await?;
    splitter.finish(&mut |_| items += 1)?;
    if items == 0 || items > limits.max_import_items {
        return Err(too_many());
    }
    let file = state
        .media
        .put_provisional(scratch, crate::media::MediaStore::dataset_key(project_id))
        .await
        .map_err(crate::collections::storage_error)?;
    Ok(Spooled {
        file,
        format,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(format: Format, text: &str, chunk: usize) -> Result<Vec<(u64, String)>, FramingError> {
        let mut splitter = Splitter::new(format, 64);
        let mut items = Vec::new();
        let mut emit = |item: RawItem| {
            items.push((
                item.line,
                String::from_utf8(item.bytes).unwrap().trim().to_owned(),
            ))
        };
        for piece in text.as_bytes().chunks(chunk) {
            splitter.feed(piece, &mut emit)?;
        }
        splitter.finish(&mut emit)?;
        Ok(items)
    }

    #[test]
    fn arrays_split_at_top_level_commas_whatever_the_chunking() {
        let text =
            "\u{feff} [\n{\"a\": \"x,]}\\\"\", \"b\": [1, {\"c\": 2}]},\n  3, \"s,\" ,null\n,{}]\n";
        for chunk in [1, 2, 7, 1000] {
            assert_eq!(
                split(Format::Array, text, chunk).unwrap(),
                [
                    (2, r#"{"a": "x,]}\"", "b": [1, {"c": 2}]}"#.to_owned()),
                    (3, "3".to_owned()),
                    (3, "\"s,\"".to_owned()),
                    (3, "null".to_owned()),
                    (4, "{}".to_owned()),
                ],
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn empty_places_are_items_the_parser_refuses() {
        assert_eq!(split(Format::Array, "[]", 3).unwrap(), Vec::new());
        let places: Vec<(u64, String)> = ["1", "", "2", ""]
            .iter()
            .map(|text| (1, text.to_string()))
            .collect();
        assert_eq!(split(Format::Array, "[1,,2,]", 3).unwrap(), places);
    }

    #[test]
    fn what_is_not_an_array_is_refused() {
        assert_eq!(
            split(Format::Array, "\n{\"items\": []}", 4),
            Err(FramingError::NotAnArray(2))
        );
        assert_eq!(
            split(Format::Array, "[1] x", 4),
            Err(FramingError::TrailingData(1))
        );
        assert_eq!(
            split(Format::Array, "[1, {\"a\"", 4),
            Err(FramingError::Unterminated)
        );
        assert_eq!(
            split(Format::Array, "  ", 4),
            Err(FramingError::NotAnArray(1))
        );
    }

    #[test]
    fn lines_keep_their_numbers_and_skip_blank_ones() {
        assert_eq!(
            split(Format::Lines, "{\"a\":1}\r\n\n  \n{not json\n{\"b\":2}", 3).unwrap(),
            [
                (1, String::from("{\"a\":1}")),
                (4, String::from("{not json")),
                (5, String::from("{\"b\":2}"))
            ]
        );
    }

    #[test]
    fn an_item_past_the_limit_is_cut_and_flagged() {
        let long = format!("[\"{}\", 1]", "x".repeat(100));
        let mut splitter = Splitter::new(Format::Array, 10);
        let mut items = Vec::new();
        splitter
            .feed(long.as_bytes(), &mut |item| items.push(item))
            .unwrap();
        splitter.finish(&mut |item| items.push(item)).unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[0].oversized && items[0].bytes.len() == 10);
        assert!(!items[1].oversized);
    }
}
