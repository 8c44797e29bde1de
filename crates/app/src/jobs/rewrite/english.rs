//! The `through_english` strategy: the transcript translated to English by the model, the script
//! written in English one sentence at a time, each sentence translated back under the gates of
//! the script's language (spelling, loops, copying), and the call to action asked in the
//! language itself.

use super::{Accepted, Ask, Draft, Miss, Refusal, Route, SentenceWriter, Voice};
use crate::{
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
        let refuse_english =
            |s: &str, k: &[String]| paraphrase::rejection(s, &translated, k, ENGLISH);
        let refuse = |s: &str, k: &[String]| paraphrase::rejection(s, self.transcript, k, language);
        let mut writer = SentenceWriter::new(self, rewriter, ctx, output, &sources);
        let mut route = ThroughEnglish {
            drafts: Voice::new(
                paraphrase::system(ENGLISH),
                ENGLISH,
                "English sentence",
                false,
            ),
            script: Voice::new(
                english::back_system(language),
                language,
                "translating sentence",
                true,
            ),
            language,
            translated: &translated,
            refuse_english: &refuse_english,
            refuse: &refuse,
        };
        writer.fill(&mut route, &sources).await?;
        let mut script = route.script;
        // A call to action is short and set in phrase: the language's own words do best.
        script.system = paraphrase::system(language);
        script.stage = "sentence";
        writer.close(&mut script, refuse).await?;
        self.assembled(name, script.kept.join(" "), writer)
    }
}

/// Sentences asked in English, each translated back into the script's language.
struct ThroughEnglish<'r> {
    drafts: Voice,
    script: Voice,
    language: &'r str,
    /// The transcript in English.
    translated: &'r str,
    refuse_english: Refusal<'r>,
    refuse: Refusal<'r>,
}

impl Route for ThroughEnglish<'_> {
    fn script(&self) -> &[String] {
        &self.script.kept
    }

    async fn say(
        &mut self,
        writer: &mut SentenceWriter<'_, '_>,
        ask: Ask<'_>,
    ) -> Result<bool, Miss> {
        let prompt = ask.prompt(&self.drafts.kept, self.translated, ENGLISH);
        if !writer
            .keep(&mut self.drafts, &prompt, self.refuse_english)
            .await?
        {
            return Ok(false);
        }
        let said = self.drafts.kept.last().cloned().unwrap_or_default();
        writer
            .keep(
                &mut self.script,
                &english::back(&said, self.language),
                self.refuse,
            )
            .await
    }
}

impl Draft<'_> {
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
