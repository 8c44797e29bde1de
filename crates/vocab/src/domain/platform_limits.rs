//! Each platform's documented limits on the video file, checked before any byte is sent.

use crate::domain::publishing::Platform;

/// What ffprobe (or the render's output) says of a video.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoFacts {
    pub duration_ms: u64,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub video_codec: String,
    pub audio_codec: Option<String>,
    /// Unknown until the file is probed.
    pub frame_rate: Option<f64>,
}

struct Limits {
    min_ms: u64,
    max_ms: u64,
    max_bytes: u64,
    fps: (f64, f64),
    codecs: &'static [&'static str],
    /// Smallest and largest side in pixels.
    sides: (u32, u32),
    /// Widest width/height allowed (Shorts are square or vertical).
    max_aspect: f64,
}

const MB: u64 = 1024 * 1024;

fn limits(platform: Platform) -> Limits {
    match platform {
        Platform::Instagram => Limits {
            min_ms: 3_000,
            max_ms: 15 * 60_000,
            max_bytes: 300 * MB,
            fps: (23.0, 60.0),
            codecs: &["h264", "hevc"],
            sides: (1, 1920),
            max_aspect: 10.0,
        },
        Platform::Youtube => Limits {
            min_ms: 1,
            max_ms: 3 * 60_000,
            max_bytes: 256 * 1024 * MB,
            fps: (1.0, 120.0),
            codecs: &["h264", "hevc", "vp9", "av1", "mpeg4"],
            sides: (1, 8192),
            max_aspect: 1.0,
        },
        Platform::Tiktok => Limits {
            min_ms: 1,
            max_ms: 10 * 60_000,
            max_bytes: 4 * 1024 * MB,
            fps: (23.0, 60.0),
            codecs: &["h264", "hevc", "vp8", "vp9"],
            sides: (360, 4096),
            max_aspect: f64::INFINITY,
        },
    }
}

/// Every limit of `platform` the video breaks, each named with its value and the limit.
pub fn problems(platform: Platform, video: &VideoFacts) -> Vec<String> {
    let limit = limits(platform);
    let mut problems = Vec::new();
    let seconds = |ms: u64| ms as f64 / 1000.0;
    if video.duration_ms < limit.min_ms || video.duration_ms > limit.max_ms {
        problems.push(format!(
            "{platform} takes {} s to {} s; the video lasts {:.1} s",
            seconds(limit.min_ms),
            seconds(limit.max_ms),
            seconds(video.duration_ms)
        ));
    }
    if video.size_bytes > limit.max_bytes {
        problems.push(format!(
            "{platform} takes at most {} MB; the video has {:.1} MB",
            limit.max_bytes / MB,
            video.size_bytes as f64 / MB as f64
        ));
    }
    if let Some(fps) = video.frame_rate {
        if fps < limit.fps.0 - 0.01 || fps > limit.fps.1 + 0.01 {
            problems.push(format!(
                "{platform} takes {} to {} frames a second; the video has {fps:.2}",
                limit.fps.0, limit.fps.1
            ));
        }
    }
    if !limit.codecs.contains(&video.video_codec.as_str()) {
        problems.push(format!(
            "{platform} takes {} video; the video is {}",
            limit.codecs.join(", "),
            video.video_codec
        ));
    }
    let (short, long) = (video.width.min(video.height), video.width.max(video.height));
    if short < limit.sides.0 || long > limit.sides.1 {
        problems.push(format!(
            "{platform} takes sides of {} to {} pixels; the video is {}x{}",
            limit.sides.0, limit.sides.1, video.width, video.height
        ));
    }
    if video.height > 0 && f64::from(video.width) / f64::from(video.height) > limit.max_aspect {
        problems.push(format!(
            "{platform} takes square or vertical video here (Shorts); the video is {}x{}",
            video.width, video.height
        ));
    }
    if platform == Platform::Instagram && video.audio_codec.as_deref().is_some_and(|a| a != "aac") {
        problems.push(format!(
            "Instagram takes AAC audio; the video's is {}",
            video.audio_codec.as_deref().unwrap_or_default()
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vertical() -> VideoFacts {
        VideoFacts {
            duration_ms: 40_000,
            size_bytes: 20 * MB,
            width: 1080,
            height: 1920,
            video_codec: "h264".into(),
            audio_codec: Some("aac".into()),
            frame_rate: Some(30.0),
        }
    }

    #[test]
    fn a_rendered_short_fits_every_platform() {
        for platform in Platform::ALL {
            assert!(problems(*platform, &vertical()).is_empty(), "{platform}");
        }
    }

    #[test]
    fn each_broken_limit_is_named() {
        let slow = VideoFacts {
            frame_rate: Some(4.0),
            ..vertical()
        };
        assert!(problems(Platform::Instagram, &slow)[0].contains("23 to 60 frames"));
        assert!(problems(Platform::Youtube, &slow).is_empty());
        let long = VideoFacts {
            duration_ms: 200_000,
            ..vertical()
        };
        assert!(problems(Platform::Youtube, &long)[0].contains("0.001 s to 180 s"));
        assert!(problems(Platform::Instagram, &long).is_empty());
        let wide = VideoFacts {
            width: 1920,
            height: 1080,
            ..vertical()
        };
        assert_eq!(problems(Platform::Youtube, &wide).len(), 1);
        let short = VideoFacts {
            duration_ms: 2_000,
            ..vertical()
        };
        assert!(problems(Platform::Instagram, &short)[0].contains("3 s to 900 s"));
    }
}
