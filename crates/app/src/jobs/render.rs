//! Step 6: gather the voice, word timings, the reel's video and any named assets as local files,
//! let the provider render into a scratch folder, then check the MP4 with ffprobe and store
//! every file (video, thumbnail, subtitles) in the media store.

use crate::error_code::ErrorCode;
use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use async_trait::async_trait;
use uuid::Uuid;

use super::{context, Handler, JobContext, JobError};
use crate::domain::job::StepJob;
use crate::domain::{
    asset::AssetKind,
    options::{BackgroundKind, RenderOptions, MAX_CLIPS},
    video_format::{Rendition, VideoFormat},
};
use crate::{
    db,
    domain::{resource::StepResource, usage::Metric, ResourceKind},
    footage::{Credit, FootageError, StockBroll, StockRequest, StockSearch},
    media::{MediaError, MediaStore},
    providers::{
        pick, process,
        render::{
            broll::{self, Clip},
            local, LibraryFont, Lineage, RenderOutput, RenderRequest, THUMBNAIL_FILE, VIDEO_FILE,
        },
        stock::{Orientation, StockLibrary},
        voice::VoiceOutput,
        ProviderError, Providers, LOCAL,
    },
    script::ScriptOutput,
};

pub struct RenderStep(pub Arc<Providers>);

/// Options naming one file each, handed to the provider by name.
const SINGLE_FILES: [&str; 3] = ["image_key", "music_key", "logo_key"];

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

    /// The ids of audio → script → transcript → reel, the reel's video if it has one, and the
    /// script's cues.
    async fn lineage(
        &self,
        ctx: &JobContext,
        video: &StepResource,
    ) -> Result<(Lineage, Option<PathBuf>, ScriptCues), JobError> {
        let mut lineage = Lineage::default();
        let mut cues = ScriptCues::default();
        let mut current = video.clone();
        while let Some(parent) = self.parent(ctx, &current).await? {
            match parent.kind {
                ResourceKind::Audio => lineage.audio_id = Some(parent.id),
                ResourceKind::Script => {
                    lineage.script_id = Some(parent.id);
                    if let Some(script) = parent
                        .output
                        .clone()
                        .and_then(|output| serde_json::from_value::<ScriptOutput>(output).ok())
                    {
                        cues = ScriptCues {
                            key_words: script.key_words,
                            broll_keywords: script.broll_keywords,
                        };
                    }
                }
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
            let key = reel.media.and_then(|prepared| prepared.video_key);
            if let Some(key) = key {
                reel_video = self.0.media.fetch(&key).await.ok();
            }
        }
        Ok((lineage, reel_video, cues))
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
        let single_files = options
            .asset_keys()
            .into_iter()
            .filter(|(name, _)| SINGLE_FILES.contains(&name.as_str()));
        for (name, key) in single_files {
            let path = self.named_file(&name, key).await?;
            assets.insert(name, path);
        }
        Ok(assets)
    }

    /// A local copy of the file an option names; a file gone since the step started fails the
    /// job.
    async fn named_file(&self, option: &str, key: &str) -> Result<PathBuf, JobError> {
        self.0.media.fetch(key).await.map_err(|error| match error {
            MediaError::Missing(_) | MediaError::InvalidKey(_) => JobError::fatal(
                ErrorCode::InvalidOptions,
                format!("`{option}`: the file is gone ({error})"),
            ),
            other => storage(other),
        })
    }

    /// The B-roll the local composer cuts between and what the picture is made of. Stock
    /// footage first, when a library is configured and no other background was chosen; else
    /// `clip_keys` in their order; else, for `background: clips`, the library's videos and
    /// images, and with no background chosen (or no stock found) its videos (an image there
    /// may be a logo), in upload order. Only as many as the shots use are fetched.
    async fn footage(
        &self,
        ctx: &JobContext,
        video: &StepResource,
        options: &RenderOptions,
        voice: &VoiceOutput,
        cues: &ScriptCues,
    ) -> Result<Footage, JobError> {
        if video.provider != LOCAL {
            return Ok(Footage::default());
        }
        let mut note = None;
        let wants_stock = options.clip_keys.is_none()
            && matches!(options.background, None | Some(BackgroundKind::Stock));
        let asked = options.stock_library.as_deref();
        match self.0.stock.pick(asked) {
            Some(library) if wants_stock => {
                match self
                    .stock(ctx, library.as_ref(), options, voice, cues)
                    .await?
                {
                    Ok(found) if !found.clips.is_empty() => {
                        return Ok(Footage {
                            clips: found.clips,
                            background: Some(BackgroundKind::Stock),
                            credits: found.credits,
                            note: found.note,
                        })
                    }
                    Ok(found) => note = found.note,
                    Err(reason) => note = Some(reason),
                }
            }
            // Checked when the step started; the key was removed since.
            None if asked.is_some() || options.background == Some(BackgroundKind::Stock) => {
                note = Some(format!(
                    "{} is no longer configured here",
                    asked.unwrap_or("no stock library")
                ));
            }
            _ => {}
        }
        let clips = self.library_clips(ctx, video, options, voice).await?;
        let background = match options.background {
            _ if !clips.is_empty() => BackgroundKind::Clips,
            Some(BackgroundKind::Stock) | None => BackgroundKind::Generated,
            Some(other) => other,
        };
        Ok(Footage {
            clips,
            background: Some(background),
            credits: Vec::new(),
            note,
        })
    }

    /// Stock clips for the shots, searched with the script's words for each shot's sentence;
    /// `Err` says why none could be searched for.
    async fn stock(
        &self,
        ctx: &JobContext,
        library: &dyn StockLibrary,
        options: &RenderOptions,
        voice: &VoiceOutput,
        cues: &ScriptCues,
    ) -> Result<Result<StockBroll, String>, JobError> {
        if cues.broll_keywords.is_empty() {
            return Ok(Err(
                "the script has no stock search words: write it again with a stock \
                 library configured, or give `broll_keywords` with PATCH /v1/scripts/{id}"
                    .to_owned(),
            ));
        }
        let shots: Vec<Vec<String>> = broll::shots(&voice.words, voice.duration_ms, 1)
            .iter()
            .map(|shot| {
                let sentence = broll::sentence_at(&voice.words, shot.start_ms);
                cues.broll_keywords
                    .get(sentence)
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        // Clips are chosen for the first format; the others crop the same clips.
        let format = options.formats()[0];
        let search = StockSearch {
            pool: ctx.pool(),
            media: &self.0.media,
            stock: &self.0.stock,
            library,
        };
        let found = search
            .find(&StockRequest {
                shots: &shots,
                orientation: Orientation::of(format),
                frame: format.frame_size(options.preview == Some(true)),
            })
            .await
            .map_err(|FootageError(error)| JobError::from(error))?;
        Ok(Ok(found))
    }

    /// The project library's B-roll: `clip_keys`, or the library's files for the background.
    async fn library_clips(
        &self,
        ctx: &JobContext,
        video: &StepResource,
        options: &RenderOptions,
        voice: &VoiceOutput,
    ) -> Result<Vec<Clip>, JobError> {
        let project_id = video.project_id;
        let assets = match (&options.clip_keys, options.background) {
            (Some(keys), _) => {
                let found = db::assets::by_keys(ctx.pool(), project_id, keys).await?;
                keys.iter()
                    .map(|key| {
                        found
                            .iter()
                            .find(|asset| &asset.key == key)
                            .cloned()
                            .ok_or_else(|| {
                                JobError::fatal(
                                    ErrorCode::InvalidOptions,
                                    format!("`clip_keys`: `{key}` is no longer in the library"),
                                )
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            (None, Some(BackgroundKind::Clips)) => {
                db::assets::of_kinds(
                    ctx.pool(),
                    project_id,
                    &[AssetKind::Video, AssetKind::Image],
                    MAX_CLIPS as i64,
                )
                .await?
            }
            (None, None | Some(BackgroundKind::Stock)) => {
                db::assets::of_kinds(
                    ctx.pool(),
                    project_id,
                    &[AssetKind::Video],
                    MAX_CLIPS as i64,
                )
                .await?
            }
            (None, Some(_)) => Vec::new(),
        };
        let shots = broll::shots(&voice.words, voice.duration_ms, assets.len()).len();
        let mut clips = Vec::with_capacity(assets.len().min(shots));
        for asset in assets.into_iter().take(shots) {
            clips.push(Clip {
                path: self.named_file("clip_keys", &asset.key).await?,
                still: asset.kind == AssetKind::Image,
            });
        }
        Ok(clips)
    }

    /// The library font the subtitles ask for, copied into `dir` alone: libass reads every file
    /// of the folder it is given.
    async fn font(
        &self,
        ctx: &JobContext,
        project_id: Uuid,
        options: &RenderOptions,
        dir: &std::path::Path,
    ) -> Result<Option<LibraryFont>, JobError> {
        let Some(key) = options.subtitles.as_ref().and_then(|s| s.font_key.clone()) else {
            return Ok(None);
        };
        let family = db::assets::by_keys(ctx.pool(), project_id, std::slice::from_ref(&key))
            .await?
            .into_iter()
            .find_map(|asset| asset.font_family)
            .ok_or_else(|| {
                JobError::fatal(
                    ErrorCode::InvalidOptions,
                    "`subtitles.font_key` is no longer a font in the library",
                )
            })?;
        let source = self.named_file("subtitles.font_key", &key).await?;
        let fonts = dir.join("fonts");
        let path = fonts.join(source.file_name().unwrap_or_default());
        tokio::fs::create_dir_all(&fonts)
            .await
            .map_err(|e| storage(e.into()))?;
        tokio::fs::copy(&source, &path)
            .await
            .map_err(|e| storage(e.into()))?;
        Ok(Some(LibraryFont { path, family }))
    }

    /// Checks the rendered files and moves them to the media store.
    async fn store(
        &self,
        video: &StepResource,
        dir: &std::path::Path,
        formats: &[VideoFormat],
    ) -> Result<Stored, JobError> {
        let prefix = video_prefix(video.project_id, video.id);
        let mut renditions = Vec::new();
        let mut probed = Vec::new();
        for (index, &format) in formats.iter().enumerate() {
            let file = format.file_name(index == 0);
            let path = dir.join(&file);
            if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
                return Err(JobError::fatal(
                    ErrorCode::RenderCheckFailed,
                    format!("the provider made no {} video", format.ratio()),
                ));
            }
            let info = process::probe(&path).await?;
            let (Some(width), Some(height), Some(_)) = (info.width, info.height, &info.audio_codec)
            else {
                return Err(JobError::fatal(
                    ErrorCode::RenderCheckFailed,
                    format!(
                        "the rendered {} file lacks a video or an audio track",
                        format.ratio()
                    ),
                ));
            };
            renditions.push(Rendition {
                format,
                key: format!("{prefix}/{file}"),
                file,
                width,
                height,
                duration_ms: info.duration_ms,
                size_bytes: tokio::fs::metadata(&path).await.map_or(0, |m| m.len()),
            });
            probed.push(info);
        }
        // The first format's file is `video.mp4`, just probed (there is always one format).
        let info = probed.swap_remove(0);
        let mp4 = dir.join(VIDEO_FILE);
        let thumbnail = dir.join(THUMBNAIL_FILE);
        if !tokio::fs::try_exists(&thumbnail).await.unwrap_or(false) {
            local::thumbnail(&mp4, info.duration_ms, &thumbnail).await?;
        }
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
        Ok(Stored {
            info,
            files,
            renditions,
        })
    }
}

/// What the script asks of the picture.
#[derive(Debug, Default)]
struct ScriptCues {
    key_words: Vec<String>,
    broll_keywords: Vec<Vec<String>>,
}

/// The B-roll a render cuts between, what the picture is made of, whose clips they are, and
/// why stock footage was not used when it was wanted.
#[derive(Debug, Default)]
struct Footage {
    clips: Vec<Clip>,
    background: Option<BackgroundKind>,
    credits: Vec<Credit>,
    note: Option<String>,
}

/// What the render job stored: the first format's file as probed, the extra files by name,
/// and every format's file.
struct Stored {
    info: process::MediaInfo,
    files: BTreeMap<String, String>,
    renditions: Vec<Rendition>,
}

#[async_trait]
impl Handler for RenderStep {
    type Input = StepJob;
    type Output = RenderOutput;

    async fn handle(&self, ctx: &JobContext, _: StepJob) -> Result<RenderOutput, JobError> {
        let video = ctx.resource().await?;
        let audio: VoiceOutput = ctx.parent_output(&video).await?;
        let options: RenderOptions = context::options(&video)?;
        let formats = options.formats();
        let preview = options.preview == Some(true);
        let (lineage, reel_video, cues) = self.lineage(ctx, &video).await?;
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
        let assets = self.assets(video.project_id, &options).await?;
        let footage = self.footage(ctx, &video, &options, &audio, &cues).await?;
        let output_dir = self.0.media.scratch("render").await.map_err(storage)?;
        // The font sits beside the output, not in it, so it is not stored as a render file.
        let work_dir = output_dir.with_extension("work");
        let prepared = async {
            tokio::fs::create_dir_all(&output_dir)
                .await
                .map_err(|e| storage(e.into()))?;
            self.font(ctx, video.project_id, &options, &work_dir).await
        }
        .await;
        let font = match prepared {
            Ok(font) => font,
            Err(error) => {
                let _ = tokio::fs::remove_dir_all(&output_dir).await;
                let _ = tokio::fs::remove_dir_all(&work_dir).await;
                return Err(error);
            }
        };
        let request = RenderRequest {
            audio: audio_file,
            audio_format: audio.format.clone(),
            audio_duration_ms: audio.duration_ms,
            words: audio.words.clone(),
            reel_video,
            assets,
            clips: footage.clips,
            font,
            output_dir: output_dir.clone(),
            video_id: video.id,
            key_words: cues.key_words,
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
                self.store(&video, &output_dir, &formats)
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
        let _ = tokio::fs::remove_dir_all(&work_dir).await;
        let (
            rendered,
            Stored {
                info,
                files,
                renditions,
            },
        ) = stored?;
        let primary = &renditions[0];
        let output = RenderOutput {
            key: primary.key.clone(),
            width: primary.width,
            height: primary.height,
            duration_ms: primary.duration_ms,
            video_codec: info.video_codec.unwrap_or_default(),
            audio_codec: info.audio_codec.unwrap_or_default(),
            size_bytes: primary.size_bytes,
            files,
            provider_job_id: rendered.provider_job_id,
            model: rendered.model,
            lineage: Some(lineage),
            loudness: rendered.loudness,
            renditions,
            preview,
            background: footage.background,
            credits: footage.credits,
            background_note: footage.note,
        };
        ctx.record_usage(
            &self.0.prices,
            &video,
            &[(Metric::VideoSeconds, output.duration_ms as f64 / 1000.0)],
        )
        .await;
        Ok(output)
    }
}

/// Where a video's files live in the media store.
pub fn video_prefix(project_id: Uuid, video_id: Uuid) -> String {
    format!(
        "{}/videos/{video_id}",
        MediaStore::project_prefix(project_id)
    )
}
