//! What provider calls consumed and what that is estimated to cost.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text_enum;

text_enum! {
    /// A billable quantity, in the unit its vendor bills.
    Metric {
        AudioSeconds => "audio_seconds",
        InputTokens => "input_tokens",
        OutputTokens => "output_tokens",
        Characters => "characters",
        VideoSeconds => "video_seconds",
        ActorItems => "actor_items",
    }
}

/// The currency every price and cost is in.
pub const CURRENCY: &str = "USD";

/// List prices in USD per unit of each metric, by provider, as the vendors published them in
/// 2025 for the default models; the configuration's `prices` table overrides any of them. Local
/// engines and `fake` cost nothing.
const DEFAULT_PRICES: &[(&str, Metric, f64)] = &[
    // Universal, $0.15 per hour.
    ("assemblyai", Metric::AudioSeconds, 0.15 / 3600.0),
    // whisper-1, $0.006 per minute.
    ("openai", Metric::AudioSeconds, 0.006 / 60.0),
    // gpt-4o-mini, $0.15 / $0.60 per million tokens.
    ("openai", Metric::InputTokens, 0.15e-6),
    ("openai", Metric::OutputTokens, 0.60e-6),
    // tts-1, $15 per million characters.
    ("openai", Metric::Characters, 15e-6),
    // Pro plan, $99 for 500,000 characters.
    ("elevenlabs", Metric::Characters, 99.0 / 500_000.0),
    // API Pro, $99 for 100 credits of one minute each.
    ("heygen", Metric::VideoSeconds, 0.99 / 60.0),
    // Instagram scrapers, $2.30 per 1,000 results.
    ("apify", Metric::ActorItems, 2.30 / 1000.0),
];

/// USD per unit by provider and metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices(HashMap<(String, Metric), f64>);

impl Prices {
    /// The defaults, overlaid with `configured` (`provider -> metric -> price`). Unknown metric
    /// names and negative or non-finite prices are refused so a typo cannot silently price
    /// everything at zero.
    pub fn with_overrides(
        configured: &BTreeMap<String, BTreeMap<String, f64>>,
    ) -> Result<Self, String> {
        let mut prices: HashMap<(String, Metric), f64> = DEFAULT_PRICES
            .iter()
            .map(|&(provider, metric, price)| ((provider.to_owned(), metric), price))
            .collect();
        for (provider, metrics) in configured {
            for (metric, &price) in metrics {
                let parsed = metric.parse::<Metric>().map_err(|_| {
                    format!(
                        "prices.{provider}.{metric}: unknown metric (one of {})",
                        Metric::ALL
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
                if !price.is_finite() || price < 0.0 {
                    return Err(format!(
                        "prices.{provider}.{metric}: must be a price of zero or more"
                    ));
                }
                prices.insert((provider.clone(), parsed), price);
            }
        }
        Ok(Prices(prices))
    }

    pub fn unit_price(&self, provider: &str, metric: Metric) -> f64 {
        self.0
            .get(&(provider.to_owned(), metric))
            .copied()
            .unwrap_or(0.0)
    }
}

/// One provider's consumption of one metric in one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UsageLine {
    pub step: super::step::Step,
    #[schema(example = "assemblyai")]
    pub provider: String,
    pub metric: Metric,
    #[schema(example = 41.5)]
    pub quantity: f64,
    /// Estimated USD, from the prices in force when each call was recorded.
    #[schema(example = 0.00173)]
    pub cost: f64,
}

/// Totals over a run or a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UsageSummary {
    #[schema(example = "USD")]
    pub currency: String,
    /// Estimated cost of every provider call, in `currency`.
    #[schema(example = 0.0215)]
    pub total_cost: f64,
    /// By step, provider and metric.
    pub lines: Vec<UsageLine>,
}

impl UsageSummary {
    pub fn from_lines(lines: Vec<UsageLine>) -> Self {
        UsageSummary {
            currency: CURRENCY.to_owned(),
            total_cost: lines.iter().map(|l| l.cost).sum(),
            lines,
        }
    }
}

/// What one step of one reel is expected to consume and cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EstimateLine {
    pub reel_id: uuid::Uuid,
    pub step: super::step::Step,
    #[schema(example = "assemblyai")]
    pub provider: String,
    pub metric: Metric,
    pub quantity: f64,
    pub unit_price: f64,
    pub cost: f64,
}

/// A run's expected cost, before anything is queued: every step of every reel at the price of
/// the provider that would serve it, as if nothing were reused (an upper bound when outputs
/// are reused). Quantities: audio seconds from the reel's duration; tokens from the words
/// spoken in that time and the script's word range; characters from the word range; video
/// seconds from the target duration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunEstimate {
    #[schema(example = "USD")]
    pub currency: String,
    pub total_cost: f64,
    pub lines: Vec<EstimateLine>,
    /// The project's budget before this run.
    pub budget: BudgetStanding,
    /// Whether the run fits in what is left (always true without a budget).
    pub within_budget: bool,
}

/// This calendar month's (UTC) spending against the project's budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BudgetStanding {
    #[schema(example = "USD")]
    pub currency: String,
    /// The cap (`settings.monthly_budget`); null without one.
    pub monthly_budget: Option<f64>,
    pub month_started_at: chrono::DateTime<chrono::Utc>,
    /// What provider calls cost this month.
    pub spent: f64,
    /// The estimates of runs still under way, held back until they finish.
    pub committed: f64,
    /// The budget less what is spent and committed; null without a budget.
    pub left: Option<f64>,
    /// How past estimates compare with what those runs cost once finished.
    pub estimates: EstimateAccuracy,
}

/// Finished runs that had an estimate: the sum of their estimates against their actual cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EstimateAccuracy {
    pub runs: u32,
    pub estimated: f64,
    pub actual: f64,
    /// `actual / estimated`; null while nothing was estimated.
    pub ratio: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_one_price_and_keep_the_rest() {
        let configured = BTreeMap::from([(
            "assemblyai".to_owned(),
            BTreeMap::from([("audio_seconds".to_owned(), 0.001)]),
        )]);
        let prices = Prices::with_overrides(&configured).unwrap();
        assert_eq!(prices.unit_price("assemblyai", Metric::AudioSeconds), 0.001);
        assert_eq!(prices.unit_price("openai", Metric::OutputTokens), 0.60e-6);
        assert_eq!(prices.unit_price("local", Metric::AudioSeconds), 0.0);
    }

    #[test]
    fn unknown_metrics_and_negative_prices_are_refused() {
        let typo = BTreeMap::from([(
            "openai".to_owned(),
            BTreeMap::from([("tokens".to_owned(), 0.1)]),
        )]);
        assert!(Prices::with_overrides(&typo)
            .unwrap_err()
            .contains("prices.openai.tokens"));
        let negative = BTreeMap::from([(
            "openai".to_owned(),
            BTreeMap::from([("input_tokens".to_owned(), -1.0)]),
        )]);
        assert!(Prices::with_overrides(&negative).is_err());
    }
}
