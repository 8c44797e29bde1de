//! Word times for text whose provider gave none (a voice without alignment, a transcription
//! model that answers text alone): the local transcriber hears the audio and its times are put
//! on the text's words; without it, or when it hears nothing, the words are spread over the
//! audio by syllables.

use std::path::Path;

use crate::providers::{
    transcribe::{TranscribeRequest, WordTiming},
    voice::{estimate_timings, TimingMethod},
    CallContext, Providers, LOCAL,
};

/// Times `text`'s words in `audio` (`duration_ms` long, spoken in `language`) with the local
/// transcriber, else by estimate.
pub async fn time_words(
    providers: &Providers,
    audio: &Path,
    text: &str,
    language: &str,
    duration_ms: u64,
    ctx: &CallContext<'_>,
) -> (Vec<WordTiming>, TimingMethod) {
    if let Some(transcriber) = providers.transcribe.get(LOCAL) {
        let request = TranscribeRequest {
            audio: Some(audio.to_owned()),
            language: Some(language.to_owned()).filter(|l| l != "und"),
            options: Default::default(),
        };
        match transcriber.transcribe(&request, ctx).await {
            Ok(heard) => {
                if let Some(aligned) = align(text, &heard.words) {
                    return aligned;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "aligning by transcription failed; estimating")
            }
        }
    }
    (estimate_timings(text, duration_ms), TimingMethod::Estimated)
}

/// Word timings from what the local transcriber hears: its timings with the text's own words
/// when it heard as many words, else the text spread by syllables over the span it heard
/// speech in (so leading and trailing silence is skipped).
fn align(text: &str, heard: &[WordTiming]) -> Option<(Vec<WordTiming>, TimingMethod)> {
    let (first, last) = (heard.first()?, heard.last()?);
    let spread = estimate_timings(text, last.end_ms.saturating_sub(first.start_ms));
    if spread.len() == heard.len() {
        let words = spread
            .into_iter()
            .zip(heard)
            .map(|(word, timing)| WordTiming {
                start_ms: timing.start_ms,
                end_ms: timing.end_ms,
                ..word
            })
            .collect();
        return Some((words, TimingMethod::Transcribed));
    }
    let words = spread
        .into_iter()
        .map(|word| WordTiming {
            start_ms: word.start_ms + first.start_ms,
            end_ms: word.end_ms + first.start_ms,
            ..word
        })
        .collect();
    Some((words, TimingMethod::TranscribedSpan))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(spans: &[(u64, u64)]) -> Vec<WordTiming> {
        spans
            .iter()
            .map(|&(start_ms, end_ms)| WordTiming {
                text: "x".into(),
                start_ms,
                end_ms,
                confidence: None,
            })
            .collect()
    }

    #[test]
    fn heard_timings_carry_the_script_words() {
        let (words, method) = align(
            "Вставай и действуй!",
            &heard(&[(300, 700), (750, 800), (900, 1500)]),
        )
        .unwrap();
        assert_eq!(method, TimingMethod::Transcribed);
        let spans: Vec<(&str, u64, u64)> = words
            .iter()
            .map(|w| (w.text.as_str(), w.start_ms, w.end_ms))
            .collect();
        assert_eq!(
            spans,
            vec![
                ("Вставай", 300, 700),
                ("и", 750, 800),
                ("действуй!", 900, 1500)
            ]
        );

        let (words, method) =
            align("Вставай и действуй!", &heard(&[(300, 700), (900, 1500)])).unwrap();
        assert_eq!(method, TimingMethod::TranscribedSpan);
        assert_eq!(
            (words[0].start_ms, words[2].end_ms),
            (300, 1500),
            "spread over the speech heard"
        );
        assert!(align("Текст", &[]).is_none());
    }
}
