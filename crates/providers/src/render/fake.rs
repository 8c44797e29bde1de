use std::time::Duration;

use async_trait::async_trait;

use super::{RenderRequest, Rendered, Renderer};
use crate::fake::Perform as _;
use crate::{
    domain::options::StepOptions,
    {process, CallContext, ProviderError},
};

/// Writes a plain video of the voice at four frames a second in each format asked for: real
/// files, made in about a second each, so the render job's checks and storage run as they do
/// for real renders.
pub struct FakeRenderer;

#[async_trait]
impl Renderer for FakeRenderer {
    async fn render(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Rendered, ProviderError> {
        let behaviour = request.options.fake();
        behaviour.perform(ctx).await?;
        if behaviour.withholds_output() {
            return Ok(Rendered {
                provider_job_id: None,
                model: "fake".into(),
                loudness: None,
            });
        }
        let preview = request.options.preview == Some(true);
        for (index, format) in request.options.formats().into_iter().enumerate() {
            let (width, height) = format.frame_size(preview);
            // Four frames a second end the picture within 250 ms of the voice.
            let frame = format!(
                "color=c=0x101820:s={width}x{height}:r=4:d={:.3}",
                request.audio_duration_ms as f64 / 1000.0
            );
            let audio = request.audio.display().to_string();
            let output = request
                .output_dir
                .join(format.file_name(index == 0))
                .display()
                .to_string();
            process::run(
                "ffmpeg",
                [
                    "-v",
                    "error",
                    "-y",
                    "-f",
                    "lavfi",
                    "-i",
                    &frame,
                    "-i",
                    &audio,
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-tune",
                    "stillimage",
                    "-pix_fmt",
                    "yuv420p",
                    "-c:a",
                    "aac",
                    "-b:a",
                    "32k",
                    "-movflags",
                    "+faststart",
                    &output,
                ],
                Duration::from_secs(120),
            )
            .await?;
        }
        Ok(Rendered {
            provider_job_id: None,
            model: "fake".into(),
            loudness: None,
        })
    }
}
