//! Recorded provider usage and its totals.

use std::collections::HashMap;

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{
    run::Run,
    step::Step,
    usage::{Metric, UsageLine, UsageSummary},
    ResourceKind,
};

/// One metric consumed by one job attempt, priced.
pub struct NewUsage<'a> {
    pub project_id: Uuid,
    pub run_id: Option<Uuid>,
    pub job_id: Uuid,
    pub attempt: i32,
    pub resource_type: &'a str,
    pub resource_id: Uuid,
    pub provider: &'a str,
    pub metric: Metric,
    pub quantity: f64,
    pub unit_price: f64,
}

/// Stores one attempt's usage; recording the same attempt again changes nothing.
pub async fn record(db: impl PgExecutor<'_>, rows: &[NewUsage<'_>]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO usage (project_id, run_id, job_id, attempt, resource_type, resource_id,
                            provider, metric, quantity, unit_price, cost)
         SELECT project_id, run_id, job_id, attempt, resource_type, resource_id, provider, metric,
                quantity, unit_price, quantity * unit_price
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::uuid[],
                     $7::text[], $8::text[], $9::float8[], $10::float8[])
              AS u(project_id, run_id, job_id, attempt, resource_type, resource_id, provider,
                   metric, quantity, unit_price)
         ON CONFLICT (job_id, attempt, metric) DO NOTHING",
    )
    .bind(rows.iter().map(|r| r.project_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.run_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.job_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.attempt).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.resource_type).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.resource_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.provider).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.metric.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.quantity).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.unit_price).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct LineRow {
    owner: Uuid,
    resource_type: String,
    provider: String,
    metric: String,
    quantity: f64,
    cost: f64,
}

/// Totals for each of `owners`, which are run ids (`by_run`) or project ids. Owners with no
/// usage get an empty summary.
async fn summaries(
    db: impl PgExecutor<'_>,
    by_run: bool,
    owners: &[Uuid],
) -> Result<HashMap<Uuid, UsageSummary>, sqlx::Error> {
    let owner = if by_run { "run_id" } else { "project_id" };
    let rows = sqlx::query_as::<_, LineRow>(&format!(
        "SELECT {owner} AS owner, resource_type, provider, metric,
                SUM(quantity) AS quantity, SUM(cost) AS cost
         FROM usage WHERE {owner} = ANY($1)
         GROUP BY {owner}, resource_type, provider, metric
         ORDER BY {owner}, resource_type, provider, metric"
    ))
    .bind(owners)
    .fetch_all(db)
    .await?;
    let mut lines: HashMap<Uuid, Vec<UsageLine>> =
        owners.iter().map(|&id| (id, Vec::new())).collect();
    for row in rows {
        let (Ok(metric), Ok(resource)) = (
            row.metric.parse(),
            row.resource_type.parse::<ResourceKind>(),
        ) else {
            continue;
        };
        lines.entry(row.owner).or_default().push(UsageLine {
            step: Step::of(resource),
            provider: row.provider,
            metric,
            quantity: row.quantity,
            cost: row.cost,
        });
    }
    Ok(lines
        .into_iter()
        .map(|(id, lines)| (id, UsageSummary::from_lines(lines)))
        .collect())
}

/// Fills in each run's usage totals, in one query.
pub async fn fill_runs(db: impl PgExecutor<'_>, runs: &mut [Run]) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = runs.iter().map(|r| r.id).collect();
    let mut usage = summaries(db, true, &ids).await?;
    for run in runs {
        run.usage = usage.remove(&run.id);
    }
    Ok(())
}

pub async fn for_project(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
) -> Result<UsageSummary, sqlx::Error> {
    let mut all = summaries(db, false, &[project_id]).await?;
    Ok(all
        .remove(&project_id)
        .unwrap_or_else(|| UsageSummary::from_lines(Vec::new())))
}
