//! Monthly budgets: what a run is expected to cost before it starts, what the month has spent
//! and committed, and whether a run still fits.

use crate::domain::{
    project::Project,
    reel::Reel,
    step::{Step, StepProviders},
    usage::{BudgetStanding, EstimateLine, Metric, Prices, RunEstimate, CURRENCY},
};

/// How fast people speak in reels; turns a reel's duration into the transcript's words.
const SPOKEN_WORDS_PER_SECOND: f64 = 2.5;
/// The system prompt and instructions sent with every rewrite.
const PROMPT_TOKENS: f64 = 500.0;
/// A reel of unknown length is taken to be a minute long.
const UNKNOWN_DURATION_SECONDS: f64 = 60.0;
/// Once a script is accepted its writer is asked for its key words: the script and these
/// instructions in, a few words back.
const KEY_WORDS_PROMPT_TOKENS: f64 = 80.0;
const KEY_WORDS_OUTPUT_TOKENS: f64 = 24.0;
/// With a stock library configured the same answer holds English search terms for each
/// sentence (about one sentence per ten words of script).
const SEARCH_WORDS_TOKENS_PER_SENTENCE: f64 = 12.0;
const WORDS_PER_SENTENCE: f64 = 10.0;
/// A publishing run's post, by the same writer: the script and the reel's hashtags in, a title,
/// caption and hashtags out.
const POST_PROMPT_TOKENS: f64 = 250.0;
const POST_OUTPUT_TOKENS: f64 = 160.0;

/// Tokens and characters per word: Latin script is cheaper in both than Cyrillic and others.
fn per_word(language: &str) -> (f64, f64) {
    match language.split('-').next().unwrap_or(language) {
        "en" | "es" | "pt" | "fr" | "de" | "it" | "nl" => (1.4, 6.5),
        _ => (2.0, 7.5),
    }
}

/// What each step of each reel should consume, at the prices of the providers that would
/// serve them; a run that `publishes` also has its writer write each reel's post, and with
/// `stock_footage` the writer also gives stock search words.
pub fn estimate(
    prices: &Prices,
    project: &Project,
    providers: &StepProviders,
    reels: &[Reel],
    publishes: bool,
    stock_footage: bool,
) -> Vec<EstimateLine> {
    let (tokens_per_word, characters_per_word) = per_word(&project.language);
    let script_words = f64::from(project.settings.words.max);
    let mut lines = Vec::new();
    for reel in reels {
        let seconds = reel
            .duration_ms
            .map_or(UNKNOWN_DURATION_SECONDS, |ms| ms as f64 / 1000.0);
        let transcript_tokens = seconds * SPOKEN_WORDS_PER_SECOND * tokens_per_word;
        let script_tokens = script_words * tokens_per_word;
        let search_words = if stock_footage {
            script_words / WORDS_PER_SENTENCE * SEARCH_WORDS_TOKENS_PER_SENTENCE
        } else {
            0.0
        };
        let (post_in, post_out) = if publishes {
            (POST_PROMPT_TOKENS + script_tokens, POST_OUTPUT_TOKENS)
        } else {
            (0.0, 0.0)
        };
        let quantities = [
            (Step::Transcribe, Metric::AudioSeconds, seconds),
            (
                Step::Rewrite,
                Metric::InputTokens,
                PROMPT_TOKENS
                    + transcript_tokens
                    + KEY_WORDS_PROMPT_TOKENS
                    + script_tokens
                    + post_in,
            ),
            (
                Step::Rewrite,
                Metric::OutputTokens,
                script_tokens + KEY_WORDS_OUTPUT_TOKENS + search_words + post_out,
            ),
            (
                Step::Voice,
                Metric::Characters,
                script_words * characters_per_word,
            ),
            (
                Step::Render,
                Metric::VideoSeconds,
                f64::from(project.settings.target_duration_seconds),
            ),
        ];
        for (step, metric, quantity) in quantities {
            let provider = providers.get(step);
            let unit_price = prices.unit_price(provider, metric);
            lines.push(EstimateLine {
                reel_id: reel.id,
                step,
                provider: provider.clone(),
                metric,
                quantity: quantity.round(),
                unit_price,
                cost: quantity.round() * unit_price,
            });
        }
    }
    lines
}

/// The estimate against the budget.
pub fn judge(lines: Vec<EstimateLine>, budget: BudgetStanding) -> RunEstimate {
    let total_cost: f64 = lines.iter().map(|line| line.cost).sum();
    RunEstimate {
        currency: CURRENCY.to_owned(),
        within_budget: budget.left.is_none_or(|left| total_cost <= left),
        total_cost,
        lines,
        budget,
    }
}

/// Why a run that does not fit is refused.
pub fn refusal(estimate: &RunEstimate) -> String {
    format!(
        "the run is estimated at {:.4} {CURRENCY}, more than the {:.4} {CURRENCY} left of this month's budget of {:.2} ({:.4} spent, {:.4} held by runs under way)",
        estimate.total_cost,
        estimate.budget.left.unwrap_or_default(),
        estimate.budget.monthly_budget.unwrap_or_default(),
        estimate.budget.spent,
        estimate.budget.committed,
    )
}
