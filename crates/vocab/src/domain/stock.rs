//! Stock footage as the vocabulary knows it: what a search asks for and what it found.

use serde::{Deserialize, Serialize};

use super::video_format::VideoFormat;

/// The frame shape a search asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    Portrait,
    Landscape,
    Square,
}

impl Orientation {
    pub fn of(format: VideoFormat) -> Self {
        let (width, height) = format.size();
        match width.cmp(&height) {
            std::cmp::Ordering::Less => Orientation::Portrait,
            std::cmp::Ordering::Greater => Orientation::Landscape,
            std::cmp::Ordering::Equal => Orientation::Square,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Orientation::Portrait => "portrait",
            Orientation::Landscape => "landscape",
            Orientation::Square => "square",
        }
    }

    /// Whether a picture of `width` x `height` has this shape (a square within 10%).
    pub fn fits(self, width: u32, height: u32) -> bool {
        let ratio = f64::from(width) / f64::from(height.max(1));
        match self {
            Orientation::Portrait => ratio < 0.9,
            Orientation::Landscape => ratio > 1.1,
            Orientation::Square => (0.9..=1.1).contains(&ratio),
        }
    }
}

/// One downloadable MP4 of a clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct StockFile {
    pub url: String,
    pub width: u32,
    pub height: u32,
}

/// A clip a search found, with what its credit needs. Every field has a default, so answers
/// cached by an older version still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct StockClip {
    pub id: String,
    /// The clip's page on the library's site.
    pub page_url: String,
    pub author: String,
    pub author_url: Option<String>,
    pub duration_seconds: f64,
    pub files: Vec<StockFile>,
}

impl StockFile {
    /// How far this file must be scaled to fill a `frame` (width, height) by cropping: 1 or
    /// less needs no enlarging.
    pub fn enlargement(&self, (width, height): (u32, u32)) -> f64 {
        let scale = |frame: u32, file: u32| f64::from(frame) / f64::from(file.max(1));
        scale(width, self.width).max(scale(height, self.height))
    }
}

impl StockClip {
    /// The file to cut from for `frame`: the smallest that fills it without enlarging (a
    /// bigger file only costs decoding time), else the one that needs enlarging least.
    pub fn best_file(&self, frame: (u32, u32)) -> Option<&StockFile> {
        let pixels = |file: &StockFile| u64::from(file.width) * u64::from(file.height);
        self.files
            .iter()
            .filter(|file| file.enlargement(frame) <= 1.0)
            .min_by_key(|file| pixels(file))
            .or_else(|| {
                self.files
                    .iter()
                    .min_by(|a, b| a.enlargement(frame).total_cmp(&b.enlargement(frame)))
            })
    }
}
