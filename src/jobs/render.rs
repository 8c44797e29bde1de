//! Step 6: gather the voice, word timings, the reel's video and any named assets as local files,
//! let the provider render into a scratch folder, then check the MP4 with ffprobe and store
//! every file (video, thumbnail, subtitles) in the media store.

use crate::error_code::ErrorCode;
use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::{context, JobContext, JobError, JobHandler};
use crate::domain::options::RenderOptions;
use crate::{
    db,
    domain::{resource::StepResource, usage::Metric, ResourceKind},
    media::{MediaError, MediaStore},
    providers::{
        collect::PreparedReel,
        pick, process,
        render::{local, Lineage, RenderOutput, RenderRequest, THUMBNAIL_FILE, VIDEO_FILE},
        voice::VoiceOutput,
        ProviderError, Providers,
    },
};

pub struct RenderStep(pub Arc<Providers>);

fn storage(error: MediaError) -> JobError {
    ProviderError::from(error).into()
}

impl RenderStep {
    async fn parent(
        &self,
        ctx: &JobContext,
        resource: &StepResource,
    ) -> Result<Option<StepResource>, JobError> {
        match (resource.kind.parent(), resource.parent_id) {
            (Some(kind), Some(id)) => Ok(db::resources::get(ctx.pool(), kind, id).await?),
            _ => Ok(None),
        }
    }

    /// The ids of audio → script → transcript → reel, and the reel's video if it has one.
    async fn lineage(
        &self,
        ctx: &JobContext,
        video: &StepResource,
    ) -> Result<(Lineage, Option<PathBuf>), JobError> {
        let mut lineage = Lineage::default();
        let mut current = video.clone();
        while let Some(parent) = self.parent(ctx, &current).await? {
            match parent.kind {
                ResourceKind::Audio => lineage.audio_id = Some(parent.id),
                ResourceKind::Script => lineage.script_id = Some(parent.id),
                ResourceKind::Transcript => {
                    lineage.transcript_id = Some(parent.id);
                    lineage.reel_id = parent.parent_id;
                }
                _ => {}
            }
            current = parent;
        }
        let reel_id = lineage.reel_id;
        let mut reel_video = None;
        if let Some(reel) = match reel_id {
            Some(id) => db::reels::get(ctx.pool(), id).await?,
            None => None,
        } {
            let key = reel
                .media
                .and_then(|m| serde_json::from_value::<PreparedReel>(m).ok())
                .and_then(|p| p.video_key);
            if let Some(key) = key {
                reel_video = self.0.media.fetch(&key).await.ok();
            }
        }
        Ok((lineage, reel_video))
    }

    /// Local copies of the files the options name; only the project's own files may be used.
    async fn assets(
        &self,
        project_id: Uuid,
        options: &RenderOptions,
    ) -> Result<BTreeMap<String, PathBuf>, JobError> {
        // Checked when the step started; checked again because the stored row is all a job has.
        if let Some(foreign) = options
            .foreign_assets(&MediaStore::project_prefix(project_id))
            .first()
        {
            return Err(JobError::fatal(
                ErrorCode::InvalidOptions,
                format!("`{}` {}", foreign.field, foreign.message),
            ));
        }
        let mut assets = BTreeMap::new();
        for (name, key) in options.asset_keys() {
            let path = self.0.media.fetch(key).await.map_err(|error| match error {
                MediaError::Missing(_) | MediaError::InvalidKey(_) => {
                    JobError::fatal(ErrorCode::InvalidOptions, format!("`{name}`: {error}"))
                }
                other => storage(other),
            })?;
            assets.insert(name.to_owned(), path);
        }
        Ok(assets)
    }

    /// Checks the rendered files and moves them to the media store.
    async fn store(
        &self,
        video: &StepResource,
        dir: &std::path::Path,
    ) -> Result<(String, process::MediaInfo, u64, BTreeMap<String, String>), JobError> {
        let mp4 = dir.join(VIDEO_FILE);
        let info = process::probe(&mp4).await?;
        if info.audio_codec.is_none() || info.width.is_none() {
            return Err(JobError::fatal(
                ErrorCode::RenderCheckFailed,
                "the rendered file lacks a video or an audio track",
            ));
        }
        let thumbnail = dir.join(THUMBNAIL_FILE);
        if !tokio::fs::try_exists(&thumbnail).await.unwrap_or(false) {
            local::thumbnail(&mp4, info.duration_ms, &thumbnail).await?;
        }
        let size_bytes = tokio::fs::metadata(&mp4)
            .await
            .map(|m| m.len())
            .unwrap_or(0);
        let prefix = video_prefix(video.project_id, video.id);
        let mut files = BTreeMap::new();
        let mut entries = tokio::fs::read_dir(dir)
            .await
            .map_err(|e| storage(e.into()))?;
        while let Some(entry) = entries.next_entry().await.map_err(|e| storage(e.into()))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let key = format!("{prefix}/{name}");
            self.0
                .media
                .put(&key, &entry.path())
                .await
                .map_err(storage)?;
            if name != VIDEO_FILE {
                files.insert(name, key);
            }
        }
        Ok((format!("{prefix}/{VIDEO_FILE}"), info, size_bytes, files))
    }
}

#[async_trait]
impl JobHandler for RenderStep {
    async fn run(&self, ctx: &JobContext) -> Result<Value, JobError> {
        let video = ctx.resource().await?;
        let audio: VoiceOutput = ctx.parent_output(&video).await?;
        let options: RenderOptions = context::options(&video)?;
        let (lineage, reel_video) = self.lineage(ctx, &video).await?;
        let audio_file = self
            .0
            .media
            .fetch(&audio.key)
            .await
            .map_err(|error| match error {
                MediaError::Missing(_) => JobError::fatal(
                    ErrorCode::MediaMissing,
                    "the voice file is gone; voice the script again",
                ),
                other => storage(other),
            })?;
        let output_dir = self.0.media.scratch("render").await.map_err(storage)?;
        tokio::fs::create_dir_all(&output_dir)
            .await
            .map_err(|e| storage(e.into()))?;
        let request = RenderRequest {
            audio: audio_file,
            audio_format: audio.format.clone(),
            audio_duration_ms: audio.duration_ms,
            words: audio.words.clone(),
            reel_video,
            assets: self.assets(video.project_id, &options).await?,
            output_dir: output_dir.clone(),
            // Unique per render: HeyGen's lookup of an interrupted generate call relies on it.
            title: format!("reelforge-{}", video.id),
            options,
        };
        let rendered = pick(&self.0.render, &video.provider)?
            .render(&request, &ctx.call())
            .await;
        let stored = match rendered {
            Ok(rendered)
                if tokio::fs::try_exists(output_dir.join(VIDEO_FILE))
                    .await
                    .unwrap_or(false) =>
            {
                self.store(&video, &output_dir)
                    .await
                    .map(|stored| (rendered, stored))
            }
            Ok(_) => Err(JobError::fatal(
                ErrorCode::NoOutput,
                "the render provider reported success but wrote no video",
            )),
            Err(error) => Err(error.into()),
        };
        let _ = tokio::fs::remove_dir_all(&output_dir).await;
        let (rendered, (key, info, size_bytes, files)) = stored?;
        let output = RenderOutput {
            key,
            width: info.width.unwrap_or(0),
            height: info.height.unwrap_or(0),
            duration_ms: info.duration_ms,
            video_codec: info.video_codec.unwrap_or_default(),
            audio_codec: info.audio_codec.unwrap_or_default(),
            size_bytes,
            files,
            provider_job_id: rendered.provider_job_id,
            model: rendered.model,
            lineage: Some(lineage),
            loudness: rendered.loudness,
        };
        ctx.record_usage(
            &self.0.prices,
            &video,
            &[(Metric::VideoSeconds, output.duration_ms as f64 / 1000.0)],
        )
        .await;
        context::to_output(&output)
    }
}

/// Where a video's files live in the media store.
pub fn video_prefix(project_id: Uuid, video_id: Uuid) -> String {
    format!(
        "{}/videos/{video_id}",
        MediaStore::project_prefix(project_id)
    )
}
