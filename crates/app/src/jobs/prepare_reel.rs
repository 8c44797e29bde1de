use std::sync::Arc;

use async_trait::async_trait;

use super::{context, Handler, JobContext, JobError};
use crate::domain::{job::StepJob, output::PreparedReel};
use crate::{
    db,
    media::MediaStore,
    providers::{
        collect::{download, upload, PrepareReel},
        fake, pick, Providers,
    },
};

/// Fake reels have no media to fetch, uploaded ones are already here; every other reel's video
/// is downloaded.
pub fn preparer_for(collector: &str) -> &'static str {
    match collector {
        fake::NAME => fake::NAME,
        FILES_SOURCE => upload::NAME,
        _ => download::NAME,
    }
}

/// The collector name of reels uploaded as files.
pub const FILES_SOURCE: &str = "files";

pub struct PrepareReelStep(pub Arc<Providers>);

#[async_trait]
impl Handler for PrepareReelStep {
    type Input = StepJob;
    type Output = PreparedReel;

    async fn handle(&self, ctx: &JobContext, _: StepJob) -> Result<PreparedReel, JobError> {
        let reel = ctx.resource().await?;
        let video_url = db::reels::get(ctx.pool(), reel.id)
            .await?
            .and_then(|r| r.video_url);
        let request = PrepareReel {
            source_url: video_url,
            media_prefix: format!(
                "{}/reels/{}",
                MediaStore::project_prefix(reel.project_id),
                reel.id
            ),
            options: context::options(&reel)?,
        };
        let preparer = preparer_for(&reel.provider);
        let prepared = pick(&self.0.prepare, preparer)?
            .prepare(&request, &ctx.call())
            .await?;
        if let (upload::NAME, Some(video_key)) = (preparer, &prepared.video_key) {
            // The uploaded file became the reel's video; the address follows it out of uploads.
            let address = format!("{}{video_key}", upload::MEDIA_SCHEME);
            db::reels::set_video_url(ctx.pool(), reel.id, &address).await?;
        }
        Ok(prepared)
    }
}
