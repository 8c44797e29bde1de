//! Turns a scraped or imported reel item (Apify's dataset shape, see the provider contracts) into
//! a [`ReelCandidate`], tolerating missing, null and oddly typed fields. Items that cannot be used
//! are rejected with a reason; one bad item never fails a batch.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

pub use reelforge_vocab::domain::reel::ReelCandidate;

pub use reelforge_vocab::domain::output::Rejection;

fn text(item: &Value, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A count: integers, floats and numeric strings are accepted; negatives mean hidden.
fn count(item: &Value, key: &str) -> Option<i64> {
    let value = match item.get(key)? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.round() as i64)
        }),
        Value::String(s) => s
            .trim()
            .replace([',', '_', ' '], "")
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f.round() as i64),
        _ => None,
    }?;
    (value >= 0).then_some(value)
}

fn seconds_to_ms(item: &Value, key: &str) -> Option<i64> {
    let seconds = match item.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    (seconds.is_finite() && seconds > 0.0 && seconds < 86_400.0)
        .then(|| (seconds * 1000.0).round() as i64)
}

fn dimension(item: &Value, key: &str) -> Option<i32> {
    count(item, key)
        .and_then(|v| i32::try_from(v).ok())
        .filter(|v| *v > 0)
}

/// ISO 8601 with or without an offset (without one it is UTC), or Unix seconds.
pub fn parse_timestamp(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(s) => {
            let s = s.trim();
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    [
                        "%Y-%m-%dT%H:%M:%S%.f",
                        "%Y-%m-%d %H:%M:%S%.f",
                        "%Y-%m-%dT%H:%M:%S",
                    ]
                    .iter()
                    .find_map(|format| NaiveDateTime::parse_from_str(s, format).ok())
                    .map(|naive| naive.and_utc())
                })
        }
        Value::Number(n) => {
            let seconds = n.as_f64()?;
            // Milliseconds sneak in from some exports.
            let seconds = if seconds > 1e11 {
                seconds / 1000.0
            } else {
                seconds
            };
            DateTime::from_timestamp(seconds as i64, 0)
        }
        _ => None,
    }
}

fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Hashtags from the item's list and from `#words` in the caption.
fn hashtags(item: &Value, caption: Option<&str>) -> Vec<String> {
    let listed = item
        .get("hashtags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned);
    let in_caption = caption.into_iter().flat_map(|c| {
        c.split(|ch: char| ch.is_whitespace() || ch == ',')
            .filter_map(|word| word.strip_prefix('#'))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    let mut tags: Vec<String> = Vec::new();
    for tag in listed.chain(in_caption) {
        let tag: String = tag
            .trim_start_matches('#')
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
            .to_lowercase();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

fn label(item: &Value, position: usize) -> String {
    ["shortCode", "id", "url"]
        .iter()
        .find_map(|key| text(item, key))
        .unwrap_or_else(|| format!("#{position}"))
}

/// Normalises the item at `position` of a batch.
pub fn normalize(item: &Value, position: usize) -> Result<ReelCandidate, Rejection> {
    let reject = |reason: String| Rejection {
        item: label(item, position),
        reason,
    };
    if !item.is_object() {
        return Err(reject("not a JSON object".into()));
    }
    if let Some(kind) = text(item, "type") {
        let clips = text(item, "productType").is_some_and(|p| p.eq_ignore_ascii_case("clips"));
        if !kind.eq_ignore_ascii_case("video") && !clips {
            return Err(reject(format!("not a video (type {kind})")));
        }
    }
    let video_url = text(item, "videoUrl").ok_or_else(|| reject("no video URL".into()))?;
    if !is_http_url(&video_url) {
        return Err(reject("the video URL is not an http(s) URL".into()));
    }
    let short_code = text(item, "shortCode");
    let external_id = short_code
        .clone()
        .or_else(|| text(item, "id"))
        .ok_or_else(|| reject("neither shortCode nor id".into()))?;
    let caption = text(item, "caption");
    let views = count(item, "videoViewCount");
    Ok(ReelCandidate {
        external_id,
        short_code,
        url: text(item, "url").filter(|u| is_http_url(u)),
        hashtags: hashtags(item, caption.as_deref()),
        caption,
        owner_username: text(item, "ownerUsername")
            .map(|u| u.trim_start_matches('@').to_lowercase()),
        owner_id: text(item, "ownerId"),
        posted_at: item.get("timestamp").and_then(parse_timestamp),
        video_url,
        cover_url: text(item, "displayUrl").filter(|u| is_http_url(u)),
        duration_ms: seconds_to_ms(item, "videoDuration"),
        width: dimension(item, "dimensionsWidth"),
        height: dimension(item, "dimensionsHeight"),
        plays: count(item, "videoPlayCount").or(views),
        views,
        likes: count(item, "likesCount"),
        comments: count(item, "commentsCount"),
        shares: count(item, "sharesCount"),
    })
}

/// Normalises a batch, keeping the usable items and the reasons for the rest.
pub fn normalize_all(items: &[Value]) -> (Vec<ReelCandidate>, Vec<Rejection>) {
    let mut candidates = Vec::with_capacity(items.len());
    let mut rejections = Vec::new();
    for (position, item) in items.iter().enumerate() {
        match normalize(item, position) {
            Ok(candidate) => candidates.push(candidate),
            Err(rejection) => rejections.push(rejection),
        }
    }
    (candidates, rejections)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn full_item() -> Value {
        json!({
            "id": "3301234567890123456", "shortCode": "C9xYz12AbCd", "type": "Video",
            "url": "https://www.instagram.com/reel/C9xYz12AbCd/",
            "caption": "Каждое утро — новый шанс! #Мотивация #успех, #growth_mindset",
            "hashtags": ["мотивация", "#Утро"],
            "timestamp": "2026-11-01T08:30:00.000Z",
            "videoUrl": "https://scontent.cdninstagram.com/v/t50/clip.mp4?oe=6751",
            "displayUrl": "https://scontent.cdninstagram.com/v/t51/cover.jpg",
            "videoDuration": 38.766, "dimensionsWidth": 1080, "dimensionsHeight": 1920,
            "likesCount": 15234, "commentsCount": 412, "videoViewCount": 250000, "videoPlayCount": 612345,
            "sharesCount": null, "ownerUsername": "Coach.Anna", "ownerId": "123456", "productType": "clips"
        })
    }

    #[test]
    fn a_complete_item_keeps_every_field() {
        let reel = normalize(&full_item(), 0).unwrap();
        assert_eq!(reel.external_id, "C9xYz12AbCd");
        assert_eq!(reel.plays, Some(612_345), "plays prefer videoPlayCount");
        assert_eq!(reel.views, Some(250_000));
        assert_eq!(reel.duration_ms, Some(38_766));
        assert_eq!(
            reel.posted_at.unwrap().to_rfc3339(),
            "2026-11-01T08:30:00+00:00"
        );
        assert_eq!(
            reel.hashtags,
            ["мотивация", "утро", "успех", "growth_mindset"]
        );
        assert_eq!(reel.owner_username.as_deref(), Some("coach.anna"));
        assert_eq!((reel.width, reel.height), (Some(1080), Some(1920)));
        assert_eq!(reel.shares, None);
    }

    #[test]
    fn plays_fall_back_to_views_and_hidden_likes_are_unknown() {
        let mut item = full_item();
        item["videoPlayCount"] = json!(null);
        item["likesCount"] = json!(-1);
        let reel = normalize(&item, 0).unwrap();
        assert_eq!((reel.plays, reel.likes), (Some(250_000), None));
        item.as_object_mut().unwrap().remove("likesCount");
        assert_eq!(normalize(&item, 0).unwrap().likes, None);
    }

    #[test]
    fn odd_types_are_tolerated() {
        let item = json!({
            "id": 3301234567890123456u64, "videoUrl": "https://cdn.example/v.mp4",
            "videoPlayCount": "1,204", "likesCount": 12.0, "commentsCount": "n/a",
            "videoDuration": "12.5", "timestamp": 1_730_000_000, "dimensionsWidth": "0",
            "hashtags": "not-a-list", "caption": 42
        });
        let reel = normalize(&item, 3).unwrap();
        assert_eq!(reel.external_id, "3301234567890123456");
        assert_eq!(
            (reel.plays, reel.likes, reel.comments),
            (Some(1204), Some(12), None)
        );
        assert_eq!(reel.duration_ms, Some(12_500));
        assert_eq!(reel.posted_at.unwrap().timestamp(), 1_730_000_000);
        assert_eq!(reel.width, None);
        assert!(reel.hashtags.is_empty());
    }

    #[test]
    fn timestamps_without_offsets_are_utc() {
        for (value, expected) in [
            (json!("2026-11-01T08:30:00"), "2026-11-01T08:30:00+00:00"),
            (
                json!("2026-11-01 08:30:00.5"),
                "2026-11-01T08:30:00.500+00:00",
            ),
            (
                json!("2026-11-01T11:30:00+03:00"),
                "2026-11-01T08:30:00+00:00",
            ),
            (json!(1_761_985_800_000i64), "2025-11-01T08:30:00+00:00"),
        ] {
            assert_eq!(
                parse_timestamp(&value).unwrap().to_rfc3339(),
                expected,
                "{value}"
            );
        }
        assert_eq!(parse_timestamp(&json!("yesterday")), None);
    }

    #[test]
    fn unusable_items_are_rejected_with_reasons() {
        let items = vec![
            json!({"shortCode": "A1", "type": "Image", "displayUrl": "https://x/y.jpg"}),
            json!({"shortCode": "A2", "type": "Video"}),
            json!({"shortCode": "A3", "videoUrl": "file:///etc/passwd"}),
            json!({"videoUrl": "https://cdn.example/v.mp4"}),
            json!("just a string"),
            json!({"shortCode": "A4", "type": "Sidecar", "videoUrl": "https://cdn.example/v.mp4"}),
            full_item(),
        ];
        let (good, bad) = normalize_all(&items);
        assert_eq!(good.len(), 1);
        let reasons: Vec<(&str, &str)> = bad
            .iter()
            .map(|r| (r.item.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("A1", "not a video (type Image)"),
                ("A2", "no video URL"),
                ("A3", "the video URL is not an http(s) URL"),
                ("#3", "neither shortCode nor id"),
                ("#4", "not a JSON object"),
                ("A4", "not a video (type Sidecar)"),
            ]
        );
    }
}
