use std::time::Duration;

use async_trait::async_trait;

use super::{local, RenderRequest, Rendered, Renderer, VIDEO_FILE};
use crate::{
    domain::options::StepOptions,
    providers::{process, CallContext, ProviderError},
};

/// Writes a plain 1080x1920 video of the voice at four frames a second: a real file, made in about
/// a second, so the render job's checks and storage run as they do for real renders.
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
        // Four frames a second end the picture within 250 ms of the voice.
        let frame = format!(
            "color=c=0x101820:s={}x{}:r=4:d={:.3}",
            local::WIDTH,
            local::HEIGHT,
            request.audio_duration_ms as f64 / 1000.0
        );
        let audio = request.audio.display().to_string();
        let output = request.output_dir.join(VIDEO_FILE).display().to_string();
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
        Ok(Rendered {
            provider_job_id: None,
            model: "fake".into(),
            loudness: None,
        })
    }
}
