//! Step 7's words: ask the project's rewrite provider for a title, caption and hashtags as
//! structured JSON, check them against every platform's limits, and fall back to plain words
//! built from the script (marked for review) when the answer does not pass. A frame of the
//! video is stored as the cover.

use std::sync::Arc;

use async_trait::async_trait;

use super::{context, Handler, JobContext, JobError};
use crate::domain::job::StepJob;
use crate::{
    db,
    domain::{
        options::{PostOptions, RewriteOptions},
        publishing::{CopyWriter, Cover, PostOutput},
        usage::Metric,
        ResourceKind,
    },
    media::MediaStore,
    providers::{
        pick,
        render::{local, RenderOutput},
        rewrite::{ChatMessage, RewriteCall, TokenUsage},
        ProviderError, Providers,
    },
    publish::copy,
    script::{Contract, ScriptOutput},
};

pub struct PostStep(pub Arc<Providers>);

/// Enough for a title, a caption and ten hashtags in Russian.
const MAX_TOKENS: u32 = 700;

impl PostStep {
    /// The script the video speaks and the source reel's hashtags, up the lineage.
    async fn sources(
        &self,
        ctx: &JobContext,
        video: &RenderOutput,
    ) -> Result<(Option<ScriptOutput>, Vec<String>), JobError> {
        let Some(lineage) = &video.lineage else {
            return Ok((None, Vec::new()));
        };
        let script = match lineage.script_id {
            Some(id) => db::resources::get(ctx.pool(), ResourceKind::Script, id)
                .await?
                .and_then(|s| s.output)
                .and_then(|output| serde_json::from_value::<ScriptOutput>(output).ok()),
            None => None,
        };
        let hashtags = match lineage.reel_id {
            Some(id) => db::reels::get(ctx.pool(), id)
                .await?
                .map(|reel| reel.hashtags)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Ok((script, hashtags))
    }

    /// A frame of the video as the cover, stored beside the post.
    async fn cover(
        &self,
        video: &RenderOutput,
        key: String,
        offset_ms: u64,
    ) -> Result<Cover, JobError> {
        let media: &MediaStore = &self.0.media;
        let (frame, offset_ms) = frame_at(media, &video.key, offset_ms).await?;
        media.put(&key, &frame).await.map_err(ProviderError::from)?;
        let _ = tokio::fs::remove_file(&frame).await;
        Ok(Cover { offset_ms, key })
    }
}

/// A JPEG of the stored video's frame at `offset_ms`, in a scratch file the caller removes,
/// and the offset it was taken at (kept clear of the end).
pub(crate) async fn frame_at(
    media: &MediaStore,
    video_key: &str,
    offset_ms: u64,
) -> Result<(std::path::PathBuf, u64), JobError> {
    let local_video = media.fetch(video_key).await.map_err(ProviderError::from)?;
    let frame = media.scratch("jpg").await.map_err(ProviderError::from)?;
    // The file's own length, not the stored one: a frame past the end is no frame at all.
    let duration_ms = crate::providers::process::duration_ms(&local_video).await?;
    // A second clear of the end: the last frame may be that far from it at low frame rates.
    let offset_ms = offset_ms.min(duration_ms.saturating_sub(1000));
    local::frame(&local_video, offset_ms, &frame).await?;
    Ok((frame, offset_ms))
}

#[async_trait]
impl Handler for PostStep {
    type Input = StepJob;
    type Output = PostOutput;

    async fn handle(&self, ctx: &JobContext, _: StepJob) -> Result<PostOutput, JobError> {
        let resource = ctx.resource().await?;
        let project = ctx.project(&resource).await?;
        let options: PostOptions = context::options(&resource)?;
        let video: RenderOutput = ctx.parent_output(&resource).await?;
        let (script, source_hashtags) = self.sources(ctx, &video).await?;
        let language = script
            .as_ref()
            .map_or(project.language.clone(), |s| s.language.clone());
        let voiceover = script.as_ref().map(|s| s.text.clone()).unwrap_or_default();
        let required = copy::merge_hashtags(
            options.hashtags.iter().flatten().map(String::as_str),
            copy::MAX_HASHTAGS,
        );
        let source_hashtags = copy::merge_hashtags(source_hashtags.iter().map(String::as_str), 10);
        let allow_emoji = project.settings.publishing.allow_emoji;

        let rewriter = pick(&self.0.rewrite, &resource.provider)?;
        let system = copy::system(&language, allow_emoji);
        let messages = [ChatMessage::user(copy::user(&voiceover, &source_hashtags))];
        let contract = Contract {
            language: language.clone(),
            words: project.settings.words,
            max_reuse: project.settings.rewrite.max_reuse,
        };
        let rewrite_options = RewriteOptions {
            model: options.model.clone(),
            temperature: options.temperature.or(Some(0.7)),
            delay_ms: options.delay_ms,
            fail: options.fail,
            fail_attempts: options.fail_attempts,
            ..RewriteOptions::default()
        };
        let format = copy::response_format();
        let grammar =
            crate::script::grammar::for_language(&language, crate::script::grammar::Shape::Post);
        ctx.call().progress.report(10, "writing the post").await;
        let mut usage = TokenUsage::default();
        let mut model = None;
        let mut from_model = Err("no answer".to_owned());
        // A cut-off answer is cut JSON: asked once more with room to finish.
        for max_tokens in [MAX_TOKENS, MAX_TOKENS * 2] {
            let options = RewriteOptions {
                max_tokens: Some(max_tokens),
                ..rewrite_options.clone()
            };
            let answer = rewriter
                .complete(
                    &RewriteCall {
                        system: &system,
                        messages: &messages,
                        contract: &contract,
                        seed: crate::script::fallback::seed_of(&voiceover),
                        grammar: grammar.as_deref(),
                        max_tokens: Some(max_tokens),
                        options: &options,
                        response_format: Some(&format),
                    },
                    &ctx.call(),
                )
                .await;
            match answer {
                // A rate limit or an outage is worth another attempt, not a fallback.
                Err(error @ ProviderError::Retryable { .. }) => return Err(error.into()),
                Err(error) => {
                    from_model = Err(format!("the model failed: {error}"));
                    break;
                }
                Ok(completion) => {
                    usage.prompt_tokens += completion.usage.prompt_tokens;
                    usage.completion_tokens += completion.usage.completion_tokens;
                    model = Some(completion.model.clone());
                    if completion.cut_off {
                        from_model = Err("the model's answer was cut off".to_owned());
                        continue;
                    }
                    from_model = copy::parse(&completion.text, &required);
                    break;
                }
            }
        }
        let model_copy = from_model.and_then(|words| {
            let checks = copy::evaluate(&words, &language, allow_emoji);
            let failed = crate::publish::review_reasons(&checks);
            if failed.is_empty() {
                Ok((words, checks))
            } else {
                Err(format!("the model's words failed: {}", failed.join("; ")))
            }
        });
        let (words, checks, writer, mut reasons) = match model_copy {
            Ok((words, checks)) => (words, checks, CopyWriter::Model, Vec::new()),
            Err(why) => {
                let words = copy::fallback(&voiceover, &source_hashtags, &required);
                let checks = copy::evaluate(&words, &language, allow_emoji);
                let reasons = vec![
                    why,
                    "written from the script, not by a model: read it before posting".to_owned(),
                ];
                (words, checks, CopyWriter::Fallback, reasons)
            }
        };
        reasons.extend(crate::publish::review_reasons(&checks));
        if script.as_ref().is_some_and(|s| s.needs_review) {
            // Words about a script nobody has checked are no more ready than the script.
            reasons.push("the script the video speaks needs review first".to_owned());
        }
        ctx.call().progress.report(70, "choosing the cover").await;
        let offset = options.cover_offset_ms.unwrap_or(video.duration_ms / 3);
        let cover = self
            .cover(
                &video,
                format!(
                    "{}/posts/{}/cover.jpg",
                    MediaStore::project_prefix(resource.project_id),
                    resource.id
                ),
                offset,
            )
            .await?;
        ctx.record_usage(
            &self.0.prices,
            &resource,
            &[
                (Metric::InputTokens, usage.prompt_tokens as f64),
                (Metric::OutputTokens, usage.completion_tokens as f64),
            ],
        )
        .await;
        Ok(PostOutput {
            title: words.title,
            caption: words.caption,
            hashtags: words.hashtags,
            language,
            writer,
            model,
            cover: Some(cover),
            checks,
            needs_review: !reasons.is_empty(),
            review_reasons: reasons,
            usage,
            credits: crate::footage::credit_lines(&video.credits),
        })
    }
}
