//! Prometheus metrics: HTTP traffic by route, jobs by kind and status, queue depth, SSE subscribers.

use std::time::Instant;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::{db, domain::Status, state::AppState};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    jobs: IntGaugeVec,
    queue_depth: IntGauge,
    sse_subscribers: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "reelforge_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "reelforge_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let jobs = IntGaugeVec::new(
            Opts::new("reelforge_jobs", "Jobs by kind and status"),
            &["kind", "status"],
        )
        .expect("valid metric");
        let queue_depth = IntGauge::new("reelforge_job_queue_depth", "Jobs waiting to run")
            .expect("valid metric");
        let sse_subscribers = IntGauge::new(
            "reelforge_sse_subscribers",
            "Open event streams on this replica",
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(jobs.clone()),
            Box::new(queue_depth.clone()),
            Box::new(sse_subscribers.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            latency,
            jobs,
            queue_depth,
            sse_subscribers,
        }
    }

    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, started: Instant) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(started.elapsed().as_secs_f64());
    }

    /// Refreshes the gauges that are read from the database and renders everything.
    pub async fn render(&self, state: &AppState) -> Result<String, sqlx::Error> {
        let counts = db::jobs::counts(&state.pool).await?;
        self.jobs.reset();
        let mut queued = 0;
        for (kind, status, count) in counts {
            if status == Status::Queued.as_str() {
                queued += count;
            }
            self.jobs.with_label_values(&[&kind, &status]).set(count);
        }
        self.queue_depth.set(queued);
        self.sse_subscribers
            .set(state.bus.subscriber_count() as i64);
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding never fails");
        Ok(String::from_utf8_lossy(&buffer).into_owned())
    }
}
