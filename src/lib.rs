//! reelforge: repurpose trending Instagram Reels as a REST/OpenAPI service with durable jobs and
//! server-sent events. The binary wires the layers (see "How the code is laid out" in the
//! README); this library names them for the binary, the tests and the benchmarks.

pub mod doctor;
pub mod startup;
pub mod telemetry;

pub use reelforge_app::{
    access, assets, collections, dataset, footage, jobs, metrics, projects, publish, rate_limit,
    reels, state, steps, voices, watch, workspaces,
};
pub use reelforge_http::{
    auth, error, idempotency, limit, mcp, openapi, request_line, routes, sse, track,
};
pub use reelforge_media as media;
pub use reelforge_providers::{self as providers, engines};
pub use reelforge_settings as config;
pub use reelforge_store::{db, events};
pub use reelforge_vocab::{budget, clock, domain, error_code, pagination, redact, script, signed};
