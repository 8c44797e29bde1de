//! A project's month of spending, as the budget sees it.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::domain::{
    project::Project,
    usage::{BudgetStanding, EstimateAccuracy, CURRENCY},
};

/// The month's spending at `now`: usage recorded since the month began, and the estimates of
/// unfinished runs less what they have used so far.
pub async fn standing(
    db: impl PgExecutor<'_>,
    project: &Project,
    now: DateTime<Utc>,
) -> Result<BudgetStanding, sqlx::Error> {
    let (month_started_at, spent, committed, runs, estimated, actual): (
        DateTime<Utc>,
        f64,
        f64,
        i64,
        f64,
        f64,
    ) = sqlx::query_as(
        "WITH month AS (SELECT date_trunc('month', $2::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start),
              estimated AS (
                  SELECT r.id, r.finished_at IS NOT NULL AS finished, r.estimated_cost,
                         COALESCE((SELECT SUM(u.cost) FROM usage u WHERE u.run_id = r.id), 0) AS used
                  FROM runs r WHERE r.project_id = $1 AND r.estimated_cost IS NOT NULL)
         SELECT month.start,
                COALESCE((SELECT SUM(cost) FROM usage WHERE project_id = $1 AND created_at >= month.start), 0)::float8,
                COALESCE((SELECT SUM(GREATEST(estimated_cost - used, 0)) FROM estimated WHERE NOT finished), 0)::float8,
                (SELECT COUNT(*) FROM estimated WHERE finished),
                COALESCE((SELECT SUM(estimated_cost) FROM estimated WHERE finished), 0)::float8,
                COALESCE((SELECT SUM(used) FROM estimated WHERE finished), 0)::float8
         FROM month",
    )
    .bind(project.id)
    .bind(now)
    .fetch_one(db)
    .await?;
    let monthly_budget = project.settings.monthly_budget;
    Ok(BudgetStanding {
        currency: CURRENCY.to_owned(),
        monthly_budget,
        month_started_at,
        spent,
        committed,
        left: monthly_budget.map(|budget| (budget - spent - committed).max(0.0)),
        estimates: EstimateAccuracy {
            runs: runs as u32,
            estimated,
            actual,
            ratio: (estimated > 0.0).then(|| actual / estimated),
        },
    })
}
