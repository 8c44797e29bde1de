//! The frame shapes a video can be rendered in, one request making any of them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A frame shape: its pixel size is fixed, so every platform that takes it gets what it expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum VideoFormat {
    /// 1080x1920: Reels, Shorts, TikTok.
    #[serde(rename = "9:16")]
    Vertical,
    /// 1080x1350: the Instagram feed.
    #[serde(rename = "4:5")]
    Portrait,
    /// 1080x1080: square feeds.
    #[serde(rename = "1:1")]
    Square,
    /// 1920x1080: YouTube and the web.
    #[serde(rename = "16:9")]
    Landscape,
}

impl VideoFormat {
    pub const ALL: [VideoFormat; 4] = [
        VideoFormat::Vertical,
        VideoFormat::Portrait,
        VideoFormat::Square,
        VideoFormat::Landscape,
    ];

    /// Width and height of the final render.
    pub fn size(self) -> (u32, u32) {
        match self {
            VideoFormat::Vertical => (1080, 1920),
            VideoFormat::Portrait => (1080, 1350),
            VideoFormat::Square => (1080, 1080),
            VideoFormat::Landscape => (1920, 1080),
        }
    }

    /// Width and height of a preview: half of each side, kept even for H.264.
    pub fn preview_size(self) -> (u32, u32) {
        let (width, height) = self.size();
        (width / 4 * 2, height / 4 * 2)
    }

    /// The frame's pixel size: half size for a preview.
    pub fn frame_size(self, preview: bool) -> (u32, u32) {
        if preview {
            self.preview_size()
        } else {
            self.size()
        }
    }

    /// The ratio as clients write it, `9:16`.
    pub fn ratio(self) -> &'static str {
        match self {
            VideoFormat::Vertical => "9:16",
            VideoFormat::Portrait => "4:5",
            VideoFormat::Square => "1:1",
            VideoFormat::Landscape => "16:9",
        }
    }

    /// The file a render of this shape is stored as: the first format asked for is always
    /// `video.mp4`, so clients that know one video keep working.
    pub fn file_name(self, primary: bool) -> String {
        if primary {
            VIDEO_FILE.to_owned()
        } else {
            format!("video-{}.mp4", self.ratio().replace(':', "x"))
        }
    }
}

/// One rendered file of a video, in one format.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Rendition {
    pub format: VideoFormat,
    /// The file's name under `/v1/videos/{id}/files/` (`video.mp4` is also
    /// `/v1/videos/{id}/content`).
    #[schema(example = "video-1x1.mp4")]
    pub file: String,
    /// Media store key.
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
    pub size_bytes: u64,
}

pub const VIDEO_FILE: &str = "video.mp4";

pub const THUMBNAIL_FILE: &str = "thumbnail.jpg";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_as_ratios_and_have_their_sizes() {
        for format in VideoFormat::ALL {
            let text = serde_json::to_value(format).unwrap();
            assert_eq!(text, format.ratio());
            assert_eq!(serde_json::from_value::<VideoFormat>(text).unwrap(), format);
            let (width, height) = format.size();
            let (w, h) = format.ratio().split_once(':').unwrap();
            assert_eq!(
                u64::from(width) * h.parse::<u64>().unwrap(),
                u64::from(height) * w.parse::<u64>().unwrap()
            );
            let (pw, ph) = format.preview_size();
            assert!(width - pw * 2 <= 2 && height - ph * 2 <= 2 && pw % 2 + ph % 2 == 0);
        }
        assert_eq!(VideoFormat::Square.file_name(false), "video-1x1.mp4");
        assert_eq!(VideoFormat::Square.file_name(true), "video.mp4");
    }
}
