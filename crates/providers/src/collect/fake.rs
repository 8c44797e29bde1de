use async_trait::async_trait;

use crate::domain::options::StepOptions;

use serde_json::{json, Value};

use super::{CollectRequest, CollectTarget, Collector, PrepareReel, PreparedReel, ReelSource};
use crate::fake::Perform as _;
use crate::{CallContext, ProviderError};

pub struct FakeReelSource;

#[async_trait]
impl ReelSource for FakeReelSource {
    async fn prepare(
        &self,
        request: &PrepareReel,
        ctx: &CallContext<'_>,
    ) -> Result<PreparedReel, ProviderError> {
        request.options.fake().perform(ctx).await?;
        Ok(PreparedReel {
            source_url: request.source_url.clone(),
            caption: Some("fake reel".into()),
            duration_ms: 30_000,
            width: 1080,
            height: 1920,
            video_key: None,
            audio_key: None,
            thumbnail_key: None,
            size_bytes: None,
            sha256: None,
            content_type: None,
            video_codec: None,
            has_audio: false,
        })
    }
}

/// Scrapes nothing: makes `per_source_limit` reels per account or hashtag, with plays growing
/// with their index, posted an hour apart.
pub struct FakeCollector;

#[async_trait]
impl Collector for FakeCollector {
    async fn collect(
        &self,
        request: &CollectRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Vec<Value>, ProviderError> {
        request.options.fake().perform(ctx).await?;
        let (sources, tag) = match &request.target {
            CollectTarget::Accounts(accounts) => (accounts, None),
            CollectTarget::Hashtags(tags) => (tags, Some(())),
        };
        let now = chrono::Utc::now();
        let mut items = Vec::new();
        for source in sources {
            let source = source.trim_start_matches(['#', '@']).to_lowercase();
            for i in 0..request.per_source_limit as i64 {
                let owner = if tag.is_some() {
                    format!("creator{}", i % 3)
                } else {
                    source.clone()
                };
                items.push(json!({
                    "shortCode": format!("{source}-{i}"), "type": "Video",
                    "url": format!("https://www.instagram.com/reel/{source}-{i}/"),
                    "videoUrl": format!("https://cdn.invalid/{source}/{i}.mp4"),
                    "caption": format!("Reel {i} about #{source}"),
                    "videoPlayCount": 1000 * (i + 1), "likesCount": 50 * (i + 1), "commentsCount": 5 * (i + 1),
                    "videoDuration": 30.0, "ownerUsername": owner,
                    "timestamp": (now - chrono::Duration::hours(i + 1)).to_rfc3339(),
                }));
            }
        }
        items.truncate(request.max_items() as usize);
        Ok(items)
    }
}
