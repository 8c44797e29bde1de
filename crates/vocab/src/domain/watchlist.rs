//! The trend radar's resources: watchlists (what to collect, when, and what to look for), their
//! alerts, and a reel's metric history.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::project::FieldError;

/// When a watchlist collects, in UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// Every N hours (1 to 168), the first at once.
    #[schema(example = json!({"every_hours": 6}))]
    EveryHours(u32),
    /// A five-field cron expression (`minute hour day month weekday`, `@hourly` and the like),
    /// in UTC, at least an hour apart.
    #[schema(example = json!({"cron": "0 */6 * * *"}))]
    Cron(String),
}

/// The shortest gap between two collections of one watchlist: each tick costs an Apify run.
const MIN_GAP: Duration = Duration::hours(1);

impl Schedule {
    fn cron(expression: &str) -> Result<croner::Cron, String> {
        let fields = expression.split_whitespace().count();
        if !(expression.starts_with('@') || fields == 5) {
            return Err("a cron expression has five fields: minute hour day month weekday".into());
        }
        expression
            .parse::<croner::Cron>()
            .map_err(|error| format!("not a cron expression: {error}"))
    }

    pub fn validate(&self, field: &str, errors: &mut Vec<FieldError>) {
        match self {
            Schedule::EveryHours(hours) if !(1..=168).contains(hours) => errors.push(
                FieldError::new(format!("{field}.every_hours"), "must be 1 to 168 hours"),
            ),
            Schedule::EveryHours(_) => {}
            Schedule::Cron(expression) => {
                let field = format!("{field}.cron");
                match Self::cron(expression) {
                    Err(message) => errors.push(FieldError::new(field, message)),
                    Ok(cron) => {
                        // Ticks closer than the minimum gap are refused, checked over a leap
                        // year of occurrences (patterns may name months and days).
                        let start = "2024-01-01T00:00:00Z"
                            .parse::<DateTime<Utc>>()
                            .expect("a time");
                        let mut previous: Option<DateTime<Utc>> = None;
                        for at in cron
                            .iter_after(start)
                            .take_while(|at| *at < start + Duration::days(367))
                        {
                            if previous.is_some_and(|p| at - p < MIN_GAP) {
                                errors.push(FieldError::new(
                                    field,
                                    "collections must be at least an hour apart",
                                ));
                                break;
                            }
                            previous = Some(at);
                        }
                    }
                }
            }
        }
    }

    /// The first tick of a schedule set (or resumed) at `now`, at least the minimum gap after
    /// the last collection, so pausing and resuming cannot collect on every pass.
    pub fn first_tick(
        &self,
        now: DateTime<Utc>,
        last_tick: Option<DateTime<Utc>>,
    ) -> DateTime<Utc> {
        let earliest = last_tick.map_or(now, |last| now.max(last + MIN_GAP));
        match self {
            Schedule::EveryHours(_) => earliest,
            Schedule::Cron(_) => self.tick_after(earliest, earliest),
        }
    }

    /// The first tick strictly after `now`, for a schedule whose last tick was due at `due`:
    /// ticks missed while the service was down are not repeated (the one collection just started
    /// stands for all of them).
    pub fn tick_after(&self, due: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Schedule::EveryHours(hours) => {
                let period = Duration::hours(i64::from((*hours).max(1)));
                let mut next = due + period;
                if next <= now {
                    // Keep the phase of the original schedule.
                    let missed = (now - next).num_seconds() / period.num_seconds() + 1;
                    next += period * missed as i32;
                }
                next
            }
            Schedule::Cron(expression) => Self::cron(expression)
                .ok()
                .and_then(|cron| cron.find_next_occurrence(&now, false).ok())
                // A stored expression was checked when it was set; should it fail now, the
                // watchlist waits a day rather than spinning.
                .unwrap_or(now + Duration::days(1)),
        }
    }
}

/// The widest `posted_within_hours`: a year, as the document says.
const MAX_POSTED_WITHIN_HOURS: u32 = 8760;

/// What makes a reel worth an alert: every condition given must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleConditions {
    /// Plays over the owner's median plays, at least.
    #[schema(example = 3.0)]
    pub min_outlier_score: Option<f64>,
    /// Plays per hour between the last two observations, at least.
    #[schema(example = 5000.0)]
    pub min_recent_velocity: Option<f64>,
    /// (likes + comments + shares) / plays, at least.
    #[schema(example = 0.05)]
    pub min_engagement_rate: Option<f64>,
    /// Posted at most this many hours ago (up to a year, 8760).
    #[schema(example = 48, maximum = 8760)]
    pub posted_within_hours: Option<u32>,
    /// The caption's language (`ru`, `en`).
    #[schema(example = "ru")]
    pub language: Option<String>,
    /// Seconds.
    pub min_duration: Option<f64>,
    /// Seconds.
    #[schema(example = 90.0)]
    pub max_duration: Option<f64>,
    /// Only reels no run or transcript has used yet (default true).
    #[serde(default = "yes")]
    pub unprocessed_only: bool,
}

fn yes() -> bool {
    true
}

impl Default for RuleConditions {
    fn default() -> Self {
        RuleConditions {
            min_outlier_score: None,
            min_recent_velocity: None,
            min_engagement_rate: None,
            posted_within_hours: None,
            language: None,
            min_duration: None,
            max_duration: None,
            unprocessed_only: true,
        }
    }
}

/// A rule as given: its conditions, and whether a match starts a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    #[schema(example = "Breakouts")]
    pub name: Option<String>,
    /// Absent: every reel collected matches (not processed yet, by default).
    #[serde(default)]
    pub conditions: RuleConditions,
    /// Start a pipeline run for each matching reel with the project's providers, within its
    /// monthly budget.
    #[serde(default)]
    pub auto_run: bool,
    /// Whether the runs it starts stop after the script for a person's review, as
    /// `CreateRun.review`. Absent: `when_flagged` for a new rule (a flagged script waits for
    /// someone rather than being voiced and rendered unread); an unchanged rule of an update
    /// keeps its own.
    pub review: Option<super::run::Review>,
}

/// A stored rule: alerts name it by `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    pub id: Uuid,
    pub name: Option<String>,
    pub conditions: RuleConditions,
    pub auto_run: bool,
    /// Whether the runs it starts stop after the script for review (`CreateRun.review`).
    /// Rules stored before this setting read `never`: what their runs always did.
    #[serde(default)]
    pub review: super::run::Review,
}

impl RuleConditions {
    /// Whether `reel` meets every condition at `now`; an unknown value meets no condition on it.
    pub fn matches(&self, reel: &super::reel::Reel, processed: bool, now: DateTime<Utc>) -> bool {
        let at_least = |threshold: Option<f64>, value: Option<f64>| {
            threshold.is_none_or(|min| value.is_some_and(|v| v >= min))
        };
        let seconds = reel.duration_ms.map(|ms| ms as f64 / 1000.0);
        at_least(self.min_outlier_score, reel.metrics.outlier_score)
            && at_least(self.min_recent_velocity, reel.metrics.recent_velocity)
            && at_least(self.min_engagement_rate, reel.metrics.engagement_rate)
            && at_least(self.min_duration, seconds)
            && self
                .max_duration
                .is_none_or(|max| seconds.is_some_and(|s| s <= max))
            && self.posted_within_hours.is_none_or(|hours| {
                reel.posted_at
                    .is_some_and(|posted| now - posted <= Duration::hours(i64::from(hours)))
            })
            && self
                .language
                .as_deref()
                .is_none_or(|language| reel.caption_language.as_deref() == Some(language))
            && !(self.unprocessed_only && processed)
    }

    pub fn validate(&self, field: &str, errors: &mut Vec<FieldError>) {
        let non_negative = [
            ("min_outlier_score", self.min_outlier_score),
            ("min_recent_velocity", self.min_recent_velocity),
            ("min_engagement_rate", self.min_engagement_rate),
            ("min_duration", self.min_duration),
            ("max_duration", self.max_duration),
        ];
        for (name, value) in non_negative {
            if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
                errors.push(FieldError::new(
                    format!("{field}.{name}"),
                    "must be a number of zero or more",
                ));
            }
        }
        if self
            .posted_within_hours
            .is_some_and(|hours| hours > MAX_POSTED_WITHIN_HOURS)
        {
            errors.push(FieldError::new(
                format!("{field}.posted_within_hours"),
                format!("must be at most {MAX_POSTED_WITHIN_HOURS} hours (a year)"),
            ));
        }
        if let (Some(min), Some(max)) = (self.min_duration, self.max_duration) {
            if min > max {
                errors.push(FieldError::new(
                    format!("{field}.min_duration"),
                    "must not exceed max_duration",
                ));
            }
        }
        if let Some(problem) = self
            .language
            .as_deref()
            .and_then(super::project::language_problem)
        {
            errors.push(FieldError::new(format!("{field}.language"), problem));
        }
    }
}

/// The body that creates a watchlist.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWatchlist {
    #[schema(example = "Мотивация: хэштеги и конкуренты")]
    pub name: String,
    /// What each tick collects: an Apify collection (`source: apify`), as
    /// `POST /v1/projects/{id}/collections` takes it.
    pub collection: super::collection::NewCollection,
    pub schedule: Schedule,
    #[serde(default)]
    pub rules: Vec<NewRule>,
    /// Created paused: nothing is collected until it is resumed.
    #[serde(default)]
    pub paused: bool,
}

/// A partial update: absent fields keep their value. Resuming schedules the next tick from now
/// (ticks missed while paused are not caught up).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWatchlist {
    pub name: Option<String>,
    pub collection: Option<super::collection::NewCollection>,
    pub schedule: Option<Schedule>,
    /// Replaces every rule; alerts of removed rules stay.
    pub rules: Option<Vec<NewRule>>,
    pub paused: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Watchlist {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    /// The collector each tick uses.
    #[schema(example = "apify")]
    pub provider: String,
    /// The checked collection each tick starts (as a collection's `parameters`).
    pub collection: super::read_model::CollectionParameters,
    pub schedule: Schedule,
    pub rules: Vec<Rule>,
    pub paused: bool,
    /// When the next collection starts; nothing is due while paused.
    pub next_tick_at: DateTime<Utc>,
    pub last_tick_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why a matching reel got no automatic run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunSkipped {
    pub code: crate::error_code::ErrorCode,
    pub detail: String,
}

/// A rule matched a reel (once per rule and reel).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    pub id: Uuid,
    pub project_id: Uuid,
    pub watchlist_id: Uuid,
    pub rule_id: Uuid,
    pub reel_id: Uuid,
    /// The reel's metrics when it matched.
    pub metrics: super::reel::ReelMetrics,
    /// The rule asked for a run.
    pub auto_run: bool,
    /// Whether that run stops after the script for review, as the rule said when it matched.
    pub review: super::run::Review,
    /// The automatic run started for the reel.
    pub run_id: Option<Uuid>,
    pub run_skipped: Option<RunSkipped>,
    pub created_at: DateTime<Utc>,
}

/// `alert`: a rule matched a reel; the event's and the webhook's data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertRaised {
    pub alert: Alert,
    pub watchlist_name: String,
    pub rule_name: Option<String>,
    pub reel: super::reel::Reel,
}

/// One observation of a reel's counts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Observation {
    pub observed_at: DateTime<Utc>,
    pub plays: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    /// Plays per hour since the observation before; null for the first.
    pub velocity: Option<f64>,
}

/// A reel's metrics over time, oldest first, for charts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReelHistory {
    pub reel_id: Uuid,
    pub observations: Vec<Observation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_rule_stored_before_the_review_setting_keeps_runs_that_never_wait() {
        let stored: Rule = serde_json::from_value(serde_json::json!({
            "id": Uuid::nil(), "name": null, "conditions": {}, "auto_run": true,
        }))
        .unwrap();
        assert_eq!(stored.review, super::super::run::Review::Never);
    }

    #[test]
    fn a_missed_tick_is_caught_up_once_and_the_phase_is_kept() {
        let every_six = Schedule::EveryHours(6);
        let due = at("2026-12-01T00:00:00Z");
        assert_eq!(
            every_six.tick_after(due, at("2026-12-01T00:00:10Z")),
            at("2026-12-01T06:00:00Z")
        );
        // Down for 20 hours: one tick now, the next at the schedule's next slot.
        assert_eq!(
            every_six.tick_after(due, at("2026-12-01T20:00:00Z")),
            at("2026-12-02T00:00:00Z")
        );
        let hourly = Schedule::Cron("0 * * * *".into());
        assert_eq!(
            hourly.tick_after(due, at("2026-12-01T20:30:00Z")),
            at("2026-12-01T21:00:00Z")
        );
        assert_eq!(
            hourly.first_tick(at("2026-12-01T20:00:00Z"), None),
            at("2026-12-01T21:00:00Z")
        );
        assert_eq!(every_six.first_tick(due, None), due);
        // Resumed ten minutes after collecting: not before an hour has passed.
        assert_eq!(
            every_six.first_tick(at("2026-12-01T00:10:00Z"), Some(due)),
            at("2026-12-01T01:00:00Z")
        );
    }

    #[test]
    fn schedules_are_checked() {
        let problems = |schedule: Schedule| {
            let mut errors = Vec::new();
            schedule.validate("schedule", &mut errors);
            errors.into_iter().map(|e| e.field).collect::<Vec<_>>()
        };
        assert!(problems(Schedule::Cron("0 */6 * * *".into())).is_empty());
        assert!(problems(Schedule::Cron("@daily".into())).is_empty());
        assert_eq!(
            problems(Schedule::Cron("*/5 * * * *".into())),
            ["schedule.cron"]
        );
        // Minutes apart on some days only.
        assert_eq!(
            problems(Schedule::Cron("*/5 * 15 * *".into())),
            ["schedule.cron"]
        );
        assert!(problems(Schedule::Cron("0 * * 6 *".into())).is_empty());
        assert_eq!(
            problems(Schedule::Cron("* * * 6 *".into())),
            ["schedule.cron"]
        );
        assert_eq!(
            problems(Schedule::Cron("0 0 * * * *".into())),
            ["schedule.cron"]
        );
        assert_eq!(
            problems(Schedule::Cron("not cron".into())),
            ["schedule.cron"]
        );
        assert_eq!(problems(Schedule::EveryHours(0)), ["schedule.every_hours"]);
        assert!(problems(Schedule::EveryHours(24)).is_empty());
    }
}
