//! The `through_english` strategy: the transcript translated to English by the model, the script
//! written in English one sentence at a time, each sentence translated back under the gates of
//! the script's language (spelling, loops, copying), and the call to action asked in the
//! language itself.

use super::{Accepted, Draft, Miss, SentenceWriter, Voice, CLOSING_WORDS};
use crate::{
    domain::project::WordRange,
    jobs::JobContext,
    providers::rewrite::{ChatMessage, RewriteCall, Rewriter},
    script::{
        clean,
        english::{self, ENGLISH},
        grammar::{self, Shape},
        paraphrase,
        words::{self, count_words},
        ScriptOutput,
    },
};

/// The most tokens the transcript's translation may take (a reel's transcript is short).
const TRANSLATION_MAX_TOKENS: u32 = 1024;

impl Draft<'_> {
    pub(super) async fn through_english(
        &self,
        name: &str,
        rewriter: &dyn Rewriter,
        output: &mut ScriptOutput,
        ctx: &JobContext,
    ) -> Result<Accepted, Miss> {
        let language = &self.contract.language;
        if english::is_english(language) {
            return self.sentence_by_sentence(name, rewriter, output, ctx).await;
        }
        let translated = self.in_english(rewriter, output, ctx).await?;
        let sources = words::sentences(&translated);
        if sources.is_empty() {
            return self.sentence_by_sentence(name, rewriter, output, ctx).await;
        }
        let WordRange { min, max } = self.contract.words;
        let (min, target) = (min as usize, (min + max) as usize / 2);
        let refuse_english =
            |s: &str, k: &[String]| paraphrase::rejection(s, &translated, k, ENGLISH);
        let refuse = |s: &str, k: &[String]| paraphrase::rejection(s, self.transcript, k, language);
        let mut writer = SentenceWriter::new(self, rewriter, ctx, output, &sources);
        let mut drafts = Voice::new(
            paraphrase::system(ENGLISH),
            ENGLISH,
            "English sentence",
            false,
        );
        let mut script = Voice::new(
            english::back_system(language),
            language,
            "translating sentence",
            true,
        );
        for source in &sources {
            if paraphrase::total_words(&script.kept) + CLOSING_WORDS >= target {
                break;
            }
            let ask = paraphrase::say_again(source, ENGLISH);
            if !writer.keep(&mut drafts, &ask, refuse_english).await? {
                continue;
            }
            let said = drafts.kept.last().cloned().unwrap_or_default();
            writer
                .keep(&mut script, &english::back(&said, language), refuse)
                .await?;
        }
        // A short transcript: carry the last idea on until the length is reached.
        let mut misses = 0;
        while paraphrase::total_words(&script.kept) + CLOSING_WORDS < min && misses < 3 {
            let previous = drafts
                .kept
                .last()
                .cloned()
                .unwrap_or_else(|| translated.clone());
            let ask = paraphrase::carry_on(&previous, ENGLISH);
            let kept = writer.keep(&mut drafts, &ask, refuse_english).await? && {
                let said = drafts.kept.last().cloned().unwrap_or_default();
                writer
                    .keep(&mut script, &english::back(&said, language), refuse)
                    .await?
            };
            misses += usize::from(!kept);
        }
        // A call to action is short and set in phrase: the language's own words do best.
        script.system = paraphrase::system(language);
        script.stage = "sentence";
        writer.close(&mut script, refuse).await?;
        self.assembled(name, script.kept.join(" "), writer)
    }

    /// The transcript in English, whole sentences only.
    async fn in_english(
        &self,
        rewriter: &dyn Rewriter,
        output: &mut ScriptOutput,
        ctx: &JobContext,
    ) -> Result<String, Miss> {
        ctx.call()
            .progress
            .report(15, "translating the transcript to English")
            .await;
        let system = english::to_english(&self.contract.language);
        let messages = [ChatMessage::user(self.transcript)];
        let grammar = grammar::for_language(ENGLISH, Shape::Sentences);
        // English takes about as many words as the transcript, a word or two tokens each.
        let cap = (count_words(self.transcript) as u32 * 3 + 64).min(TRANSLATION_MAX_TOKENS);
        let call = RewriteCall {
            system: &system,
            messages: &messages,
            contract: self.contract,
            seed: self.seed,
            options: self.options,
            grammar: grammar.as_deref(),
            max_tokens: Some(cap),
            response_format: None,
        };
        let completion = rewriter
            .complete(&call, &ctx.call())
            .await
            .map_err(Miss::Provider)?;
        output.usage.prompt_tokens += completion.usage.prompt_tokens;
        output.usage.completion_tokens += completion.usage.completion_tokens;
        output.model = completion.model;
        let (text, _) = clean(&completion.text);
        let mut sentences = words::sentences(&text);
        if completion.cut_off {
            // The last sentence was cut at the token limit.
            sentences.pop();
        }
        Ok(sentences.join(" "))
    }
}
